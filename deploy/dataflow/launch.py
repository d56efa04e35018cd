"""The Flex Template's entry point (FLEX_TEMPLATE_PYTHON_PY_FILE): `gristmill run` with the
template's parameters, which the launcher passes as --name=value flags (Beam options
such as --project, --region, --temp_location and --sdk_container_image among them).

Two translations, nothing else:
- without --runner, `gristmill run` would run the job on the launcher VM itself
  (FnApiRunner), so DataflowRunner is named unless the parameters name a runner;
- a template passes an on/off flag as --incremental=true; gristmill's switches take no
  value, so --X=true becomes --X and --X=false is left out.
"""
import argparse
import sys


def _switches() -> set[str]:
    from gristmill.pipelines.options import GristmillOptions
    parser = argparse.ArgumentParser()
    GristmillOptions._add_argparse_args(parser)
    return {s for a in parser._actions if isinstance(a, argparse._StoreTrueAction) for s in a.option_strings}


def launcher_args(argv: list[str]) -> list[str]:
    switches, out = _switches(), []
    for a in argv:
        flag, eq, value = a.partition("=")
        if eq and flag in switches and value.lower() in ("true", "false"):
            out += [flag] if value.lower() == "true" else []
        else:
            out.append(a)
    if not any(a == "--runner" or a.startswith("--runner=") for a in out):
        out.insert(0, "--runner=DataflowRunner")
    return out


if __name__ == "__main__":
    from gristmill.pipelines import run
    sys.exit(run.main(launcher_args(sys.argv[1:])))
