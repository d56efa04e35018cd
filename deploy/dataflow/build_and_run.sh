#!/usr/bin/env bash
# Build the gristmill Flex Template (image + spec) and launch it once.
#   usage: deploy/dataflow/build_and_run.sh PROJECT REGION BUCKET INPUT RUN_NAME [EXTRA]
#   EXTRA: more template parameters as k=v~k=v (~ separates them, so values may hold
#          commas), e.g. 'languages=en,de~vocab_size=32000'
#   e.g.   deploy/dataflow/build_and_run.sh my-project europe-west4 my-bucket 'gs://my-bucket/crawl/*.warc.gz' 2026-49
# Needs gcloud (authenticated), an Artifact Registry Docker repository named
# "gristmill" in REGION (created here if missing) and the bucket.
set -euo pipefail
if [[ $# -lt 5 ]]; then
  echo "usage: $0 PROJECT REGION BUCKET INPUT RUN_NAME [EXTRA: k=v~k=v, e.g. languages=en,de~vocab_size=32000]" >&2
  exit 2
fi
PROJECT=$1 REGION=$2 BUCKET=$3 INPUT=$4 RUN=$5 EXTRA=${6:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${TAG:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo latest)}
IMAGE="$REGION-docker.pkg.dev/$PROJECT/gristmill/gristmill:$TAG"
SPEC="gs://$BUCKET/templates/gristmill-$TAG.json"

gcloud artifacts repositories describe gristmill --project "$PROJECT" --location "$REGION" >/dev/null 2>&1 \
  || gcloud artifacts repositories create gristmill --project "$PROJECT" --location "$REGION" --repository-format docker

# The image: launcher and worker SDK container in one (deploy/dataflow/Dockerfile).
cat > "$ROOT/.cloudbuild-gristmill.yaml" <<YAML
steps:
- name: gcr.io/cloud-builders/docker
  args: [build, -f, deploy/dataflow/Dockerfile, -t, "$IMAGE", .]
images: ["$IMAGE"]
YAML
trap 'rm -f "$ROOT/.cloudbuild-gristmill.yaml"' EXIT
gcloud builds submit "$ROOT" --project "$PROJECT" --region "$REGION" --config "$ROOT/.cloudbuild-gristmill.yaml"

# The spec: the image, the parameters and their checks (deploy/dataflow/metadata.json).
gcloud dataflow flex-template build "$SPEC" --project "$PROJECT" \
  --image "$IMAGE" --sdk-language PYTHON --metadata-file "$ROOT/deploy/dataflow/metadata.json"

# One run; the workers use the same image (sdk_container_image).
PARAMS="input=$INPUT~output=gs://$BUCKET/runs/$RUN~work_dir=gs://$BUCKET/runs/work~sdk_container_image=$IMAGE"
gcloud dataflow flex-template run "gristmill-${RUN//[^a-z0-9-]/-}" --project "$PROJECT" --region "$REGION" \
  --template-file-gcs-location "$SPEC" \
  --temp-location "gs://$BUCKET/tmp" --staging-location "gs://$BUCKET/staging" \
  --parameters "^~^$PARAMS${EXTRA:+~$EXTRA}"
echo "launched: $RUN  (image $IMAGE, spec $SPEC)"
