"""Word and sentence material for the synthetic crawl (`gristmill.sampledata.crawl`).

Everything here was written for this project: small grammars for English, German,
French, Spanish and Italian (subjects x verbs x objects x place/time complements,
fronted connectives, reported speech, causal clauses, compound sentences and number
statements), names of invented people, towns and sites, and the boilerplate strings
that the HTML templates put around the article (menus, cookie banners, footers).

The grammars produce millions of distinct sentences per language, so two independent
articles share almost no word 5-grams, while every sentence is plain, fluent prose
that a language identifier recognises and that passes the usual quality rules
(terminal punctuation, stop words, alphabetic words, no markup or braces).

Public entry points: `make_article`, `sentence`, `title_for`, `pii_sentence`,
`fmt_date`, `fold_ascii`, and the tables `LANGS`, `TOPICS`, `UI`, `TOPIC_LABELS`.
"""
from __future__ import annotations

import dataclasses
import random
import unicodedata

LANGS = ("en", "de", "fr", "es", "it")
TOPICS = ("council", "weather", "football", "science", "cooking", "technology",
          "health", "culture")

# --------------------------------------------------------------------------- English
_EN = {
    "subjects": [
        "the city council", "the local government", "a group of residents",
        "the regional authority", "the organising committee", "a small team of volunteers",
        "the school board", "the chamber of commerce", "the mayor's office",
        "a local charity", "the planning department", "the neighbourhood association",
        "the university", "a regional newspaper", "the district administration",
        "the board of directors", "an independent expert panel", "the national agency",
        "the tourism office", "a coalition of local businesses",
    ],
    "verbs": [
        "presented", "discussed", "announced", "reviewed", "criticised", "defended",
        "postponed", "welcomed", "explained", "tested", "described", "prepared",
        "supported", "questioned", "published", "examined", "improved", "changed",
        "approved", "rejected", "confirmed", "revised", "analysed", "celebrated",
        "organised", "proposed", "praised", "outlined",
    ],
    "objects": [
        "a new proposal", "the final report", "the annual budget", "a detailed plan",
        "the new rules", "the latest figures", "a long list of recommendations",
        "the results of the survey", "the schedule for next year", "an ambitious strategy",
        "the draft agreement", "a series of public meetings", "the funding request",
        "the updated timetable", "a short statement", "the official guidelines",
        "the first draft of the study", "a set of practical measures",
        "the previous decision", "an open letter",
    ],
    "places": [
        "in the town hall", "at a public meeting", "in {town}", "during a press conference",
        "in the main library", "at the community centre", "on the local radio station",
        "in front of a large audience", "at the regional office", "in a crowded hall",
        "on the official website", "in the old market square", "at the university campus",
        "near the river", "in the northern district", "at a small gathering",
    ],
    "times": [
        "on Monday", "on Tuesday evening", "last week", "earlier this month",
        "on Thursday morning", "at the end of March", "after months of debate",
        "over the weekend", "last Friday", "in early spring", "this morning",
        "on Wednesday afternoon", "two days ago", "late last year",
        "in the past few weeks", "at the start of the season",
    ],
    "connectives": [
        "However,", "Meanwhile,", "In addition,", "At the same time,",
        "According to local reports,", "As expected,", "Surprisingly,",
        "For the first time,", "In response,", "Later,",
    ],
    "reasons": [
        "demand has risen sharply in recent months", "many residents asked for more information",
        "the costs were higher than expected", "the weather made the original plan impossible",
        "several experts raised serious concerns", "the previous system no longer worked well",
        "the number of visitors keeps growing", "the funding was finally approved",
        "the old building needs urgent repairs", "young families wanted more options",
        "the deadline was moved to next year", "the first results were very promising",
        "local shops reported falling sales", "the public debate had become too heated",
    ],
    "because": " because ",
    "said": ["said that", "explained that", "stressed that", "told reporters that",
             "pointed out that", "confirmed that", "argued that"],
    "conj": ["and", "while", "but", "so"],
    "stats": [
        "More than {n} people attended the first meeting.",
        "The project is expected to cost about {m} million dollars.",
        "About {pct} percent of the residents took part in the survey.",
        "The new centre will open in {year} and will employ {small} people.",
        "Around {n} visitors came to {town} over the weekend.",
        "Only {pct} percent of the participants were satisfied with the result.",
        "The waiting list now includes {n} families.",
        "Last year the town spent {m} million dollars on roads and schools.",
        "The survey asked {n} households about their daily habits.",
        "The report has {small} chapters and more than {pages} pages.",
    ],
    "roles": {
        "f": ["a local teacher", "the head of the department", "a spokesperson for the council",
              "a retired engineer", "the project manager", "a long-time resident",
              "the director of the museum", "a member of the committee",
              "a researcher at the university", "the owner of a small bakery",
              "a nurse at the local hospital", "the coach of the youth team"],
    },
    "first": {
        "f": ["Emma", "Olivia", "Sarah", "Grace", "Hannah", "Laura", "Chloe", "Rachel",
              "Megan", "Alice"],
        "m": ["James", "Daniel", "Michael", "Thomas", "Robert", "Peter", "Samuel", "David",
              "Andrew", "George"],
    },
    "last": ["Carter", "Thompson", "Reed", "Walsh", "Bennett", "Hughes", "Foster", "Morgan",
             "Price", "Ellis", "Hayes", "Porter", "Graham", "Brooks", "Fletcher", "Sutton",
             "Lambert", "Holloway", "Pearce", "Whitaker"],
    "towns": ["Riverbend", "Millbrook", "Ashford Green", "Harrowgate Hill", "Elmsworth",
              "Northfield Cross", "Larkspur Bay", "Oakhaven", "Stonebridge", "Willowmere"],
    "topics": {
        "council": (
            ["the city council", "the mayor", "the finance committee", "the opposition party",
             "the deputy mayor", "the council majority"],
            ["the municipal budget", "a plan for new bike lanes",
             "the proposal to renovate the town hall", "the new parking regulations",
             "the housing programme", "a tax increase", "the zoning plan for the harbour",
             "the public transport contract"]),
        "weather": (
            ["the national weather service", "the regional forecast centre",
             "a team of meteorologists", "the civil protection agency",
             "the local farmers' association", "the flood control office"],
            ["a warning for heavy rain", "the forecast for the weekend",
             "the temperature records", "new data on summer droughts",
             "a storm alert for the coast", "the measurements from the mountain station",
             "the snowfall statistics", "an early frost warning"]),
        "football": (
            ["the club", "the head coach", "the team captain", "the league",
             "the youth academy", "the supporters' club"],
            ["the squad for the next match", "a new training schedule", "the transfer plans",
             "the ticket prices for the season", "the tactics for the derby",
             "the plans for a new stadium", "the contract of the goalkeeper",
             "the results of the medical tests"]),
        "science": (
            ["a team of researchers", "the research institute", "a young biologist",
             "the university laboratory", "an international consortium", "the science museum"],
            ["a study on bird migration", "new measurements of the lake",
             "the results of a long experiment", "a model of the local climate",
             "samples from the old forest", "a paper on soil bacteria",
             "the data from the new telescope", "a method to recycle plastic"]),
        "cooking": (
            ["the head chef", "a family restaurant", "the cooking school", "a local baker",
             "the market association", "a food critic"],
            ["a new menu for the autumn", "a recipe for vegetable soup",
             "the traditional apple cake", "a dish with fresh mushrooms",
             "the bread from the old oven", "a simple pasta recipe",
             "the list of seasonal ingredients", "a course on regional cuisine"]),
        "technology": (
            ["the software company", "a small startup", "the city's digital office",
             "the telecom provider", "a group of developers", "the technology fair"],
            ["a new mobile app", "the update for the ticket system",
             "the plan for faster internet", "a service for online appointments",
             "the security of the network", "a prototype of an electric bus",
             "the open data portal", "a tool for translating documents"]),
        "health": (
            ["the regional hospital", "the health department", "a group of doctors",
             "the local pharmacy", "the nursing school", "a patient association"],
            ["a vaccination campaign", "the new opening hours of the clinic",
             "a programme against loneliness", "the waiting times for appointments",
             "a study on healthy sleep", "the plan for a new emergency room",
             "advice for the hot summer days", "a free health check for seniors"]),
        "culture": (
            ["the city museum", "the theatre company", "the local orchestra",
             "a young painter", "the film festival", "the public library"],
            ["a new exhibition", "the programme for the summer festival",
             "a concert in the old church", "the restoration of a famous painting",
             "a series of readings", "the plans for an open-air cinema",
             "a collection of old photographs", "the season's first premiere"]),
    },
    "labels": {"council": "City council", "weather": "Weather", "football": "Football",
               "science": "Science", "cooking": "Food", "technology": "Technology",
               "health": "Health", "culture": "Culture"},
    "pii": [
        "Readers who have questions can contact the editor at {email} or call {phone}.",
        "The organisers asked residents to send their comments to {email} before the end of the month.",
        "For bookings, the office can be reached by phone at {phone} on weekdays.",
        "{name} can be reached at {email} for further information.",
    ],
    "pii_cc": [
        "During the hearing, a lawyer read out the card number {cc}, which had been used for the payment.",
        "One participant accidentally posted the number {cc} in the public comment section.",
    ],
    "pii_ip": [
        "Technicians traced the failed logins to the address {ip} and blocked it.",
        "The server with the address {ip} stored the results of the survey.",
    ],
    "pii_iban": ["Donations can be sent to the account {iban}, the club said."],
}

# ---------------------------------------------------------------------------- German
_DE = {
    "subjects": [
        "der Stadtrat", "die Landesregierung", "eine Gruppe von Anwohnern",
        "die Bezirksverwaltung", "das Organisationskomitee", "ein kleines Team von Freiwilligen",
        "der Schulausschuss", "die Handelskammer", "das Büro der Bürgermeisterin",
        "ein örtlicher Verein", "das Planungsamt", "die Nachbarschaftsinitiative",
        "die Universität", "eine regionale Zeitung", "der Kreistag", "der Vorstand",
        "ein unabhängiges Expertengremium", "die Bundesagentur", "das Tourismusbüro",
        "ein Bündnis lokaler Unternehmen",
    ],
    "verbs": [
        "vorgestellt", "diskutiert", "angekündigt", "geprüft", "kritisiert", "verteidigt",
        "verschoben", "begrüßt", "erklärt", "getestet", "beschrieben", "vorbereitet",
        "unterstützt", "infrage gestellt", "veröffentlicht", "untersucht", "verbessert",
        "verändert", "genehmigt", "abgelehnt", "bestätigt", "überarbeitet", "analysiert",
        "gefeiert", "organisiert", "vorgeschlagen", "gelobt", "erläutert",
    ],
    "objects": [
        "einen neuen Vorschlag", "den Abschlussbericht", "den Jahreshaushalt",
        "einen detaillierten Plan", "die neuen Regeln", "die neuesten Zahlen",
        "eine lange Liste von Empfehlungen", "die Ergebnisse der Umfrage",
        "den Zeitplan für das nächste Jahr", "eine ehrgeizige Strategie",
        "den Entwurf der Vereinbarung", "eine Reihe öffentlicher Versammlungen",
        "den Förderantrag", "den aktualisierten Fahrplan", "eine kurze Stellungnahme",
        "die offiziellen Richtlinien", "den ersten Entwurf der Studie",
        "eine Reihe praktischer Maßnahmen", "die frühere Entscheidung", "einen offenen Brief",
    ],
    "places": [
        "im Rathaus", "bei einer öffentlichen Versammlung", "in {town}",
        "auf einer Pressekonferenz", "in der Stadtbibliothek", "im Gemeindezentrum",
        "im lokalen Radio", "vor einem großen Publikum", "im Regionalbüro",
        "in einem vollen Saal", "auf der offiziellen Webseite", "auf dem alten Marktplatz",
        "auf dem Campus der Universität", "am Ufer des Flusses", "im nördlichen Stadtteil",
        "bei einem kleinen Treffen",
    ],
    "times": [
        "am Montag", "am Dienstagabend", "in der vergangenen Woche", "Anfang des Monats",
        "am Donnerstagmorgen", "Ende März", "nach monatelanger Debatte", "am Wochenende",
        "am vergangenen Freitag", "im frühen Frühling", "heute Morgen",
        "am Mittwochnachmittag", "vor zwei Tagen", "Ende des letzten Jahres",
        "in den vergangenen Wochen", "zu Beginn der Saison",
    ],
    # fronted adverbials: the finite verb follows directly (verb second), no comma
    "connectives": [
        "Allerdings", "Inzwischen", "Außerdem", "Gleichzeitig", "Laut örtlichen Berichten",
        "Wie erwartet", "Überraschenderweise", "Zum ersten Mal", "Daraufhin", "Später",
    ],
    # subordinate clauses, verb last
    "reasons": [
        "die Nachfrage in den letzten Monaten stark gestiegen ist",
        "viele Bürger mehr Informationen verlangt haben",
        "die Kosten höher als erwartet waren",
        "das Wetter den ursprünglichen Plan unmöglich gemacht hat",
        "mehrere Fachleute ernste Bedenken geäußert haben",
        "das alte System nicht mehr gut funktioniert hat",
        "die Zahl der Besucher weiter wächst",
        "die Finanzierung endlich bewilligt wurde",
        "das alte Gebäude dringend renoviert werden muss",
        "junge Familien mehr Angebote wollten",
        "die Frist auf das nächste Jahr verschoben wurde",
        "die ersten Ergebnisse sehr vielversprechend waren",
        "die Geschäfte im Zentrum sinkende Umsätze gemeldet haben",
        "die öffentliche Debatte zu hitzig geworden war",
    ],
    "because": ", weil ",
    "said": ["sagte, dass", "erklärte, dass", "betonte, dass", "meinte, dass",
             "bestätigte, dass", "berichtete, dass"],
    "conj": ["und", "aber"],
    "stats": [
        "Mehr als {n} Menschen kamen zur ersten Versammlung.",
        "Das Projekt soll rund {m} Millionen Euro kosten.",
        "Etwa {pct} Prozent der Einwohner haben an der Umfrage teilgenommen.",
        "Das neue Zentrum soll {year} eröffnen und {small} Menschen beschäftigen.",
        "Rund {n} Besucher kamen am Wochenende nach {town}.",
        "Nur {pct} Prozent der Teilnehmer waren mit dem Ergebnis zufrieden.",
        "Auf der Warteliste stehen inzwischen {n} Familien.",
        "Im vergangenen Jahr hat die Stadt {m} Millionen Euro für Straßen und Schulen ausgegeben.",
        "Für die Umfrage wurden {n} Haushalte zu ihrem Alltag befragt.",
        "Der Bericht umfasst {small} Kapitel und mehr als {pages} Seiten.",
    ],
    "roles": {
        "f": ["Lehrerin an der Grundschule", "Leiterin der Abteilung",
              "Sprecherin der Stadtverwaltung", "pensionierte Ingenieurin", "Projektleiterin",
              "langjährige Anwohnerin", "Direktorin des Museums", "Mitglied des Ausschusses",
              "Forscherin an der Universität", "Inhaberin einer kleinen Bäckerei",
              "Pflegerin im örtlichen Krankenhaus", "Trainerin der Jugendmannschaft"],
        "m": ["Lehrer an der Grundschule", "Leiter der Abteilung",
              "Sprecher der Stadtverwaltung", "pensionierter Ingenieur", "Projektleiter",
              "langjähriger Anwohner", "Direktor des Museums", "Mitglied des Ausschusses",
              "Forscher an der Universität", "Inhaber einer kleinen Bäckerei",
              "Pfleger im örtlichen Krankenhaus", "Trainer der Jugendmannschaft"],
    },
    "first": {
        "f": ["Anna", "Julia", "Katrin", "Sabine", "Lena", "Miriam", "Claudia", "Petra",
              "Laura", "Sophie"],
        "m": ["Thomas", "Jürgen", "Stefan", "Markus", "Lukas", "Andreas", "Florian",
              "Michael", "Jonas", "Matthias"],
    },
    "last": ["Weber", "Schneider", "Fischer", "Becker", "Hoffmann", "Schäfer", "Koch",
             "Richter", "Wolf", "Neumann", "Braun", "Zimmermann", "Krüger", "Hartmann",
             "Lange", "Vogel", "Engel", "Lorenz", "Brandt", "Franke"],
    "towns": ["Lindenfeld", "Rosenthal an der Aue", "Eichenbrück", "Hohenwalde",
              "Mühlbach im Tal", "Steinhausen am Berg", "Waldkirchen an der Lohe",
              "Sonnenberg", "Kleeheim", "Buchenau"],
    "topics": {
        "council": (
            ["der Stadtrat", "der Bürgermeister", "der Finanzausschuss", "die Opposition",
             "die stellvertretende Bürgermeisterin", "die Ratsmehrheit"],
            ["den städtischen Haushalt", "einen Plan für neue Radwege",
             "den Vorschlag zur Sanierung des Rathauses", "die neuen Parkregeln",
             "das Wohnungsbauprogramm", "eine Steuererhöhung",
             "den Bebauungsplan für den Hafen", "den Vertrag für den Nahverkehr"]),
        "weather": (
            ["der nationale Wetterdienst", "die regionale Wetterzentrale",
             "ein Team von Meteorologen", "der Katastrophenschutz",
             "der örtliche Bauernverband", "das Hochwasseramt"],
            ["eine Warnung vor Starkregen", "die Vorhersage für das Wochenende",
             "die Temperaturrekorde", "neue Daten zur Sommerdürre",
             "eine Sturmwarnung für die Küste", "die Messungen der Bergstation",
             "die Statistik zum Schneefall", "eine frühe Frostwarnung"]),
        "football": (
            ["der Verein", "der Cheftrainer", "der Mannschaftskapitän", "die Liga",
             "das Nachwuchszentrum", "der Fanklub"],
            ["den Kader für das nächste Spiel", "einen neuen Trainingsplan",
             "die Transferpläne", "die Ticketpreise für die Saison",
             "die Taktik für das Derby", "die Pläne für ein neues Stadion",
             "den Vertrag des Torwarts", "die Ergebnisse der medizinischen Tests"]),
        "science": (
            ["ein Forschungsteam", "das Forschungsinstitut", "eine junge Biologin",
             "das Universitätslabor", "ein internationales Konsortium",
             "das Wissenschaftsmuseum"],
            ["eine Studie über den Vogelzug", "neue Messungen des Sees",
             "die Ergebnisse eines langen Experiments", "ein Modell des lokalen Klimas",
             "Proben aus dem alten Wald", "einen Aufsatz über Bodenbakterien",
             "die Daten des neuen Teleskops", "ein Verfahren zum Recycling von Kunststoff"]),
        "cooking": (
            ["der Küchenchef", "ein Familienrestaurant", "die Kochschule",
             "ein örtlicher Bäcker", "der Marktverein", "eine Restaurantkritikerin"],
            ["eine neue Herbstkarte", "ein Rezept für Gemüsesuppe",
             "den traditionellen Apfelkuchen", "ein Gericht mit frischen Pilzen",
             "das Brot aus dem alten Ofen", "ein einfaches Nudelrezept",
             "die Liste der saisonalen Zutaten", "einen Kurs über regionale Küche"]),
        "technology": (
            ["das Softwareunternehmen", "ein kleines Startup", "das Digitalbüro der Stadt",
             "der Telekommunikationsanbieter", "eine Gruppe von Entwicklern",
             "die Technikmesse"],
            ["eine neue App", "das Update für das Ticketsystem",
             "den Plan für schnelleres Internet", "einen Dienst für Online-Termine",
             "die Sicherheit des Netzwerks", "den Prototyp eines Elektrobusses",
             "das Portal für offene Daten", "ein Werkzeug zum Übersetzen von Dokumenten"]),
        "health": (
            ["das Kreiskrankenhaus", "das Gesundheitsamt", "eine Gruppe von Ärzten",
             "die örtliche Apotheke", "die Pflegeschule", "ein Patientenverband"],
            ["eine Impfkampagne", "die neuen Öffnungszeiten der Klinik",
             "ein Programm gegen Einsamkeit", "die Wartezeiten für Termine",
             "eine Studie über gesunden Schlaf", "den Plan für eine neue Notaufnahme",
             "Tipps für heiße Sommertage", "eine kostenlose Untersuchung für Senioren"]),
        "culture": (
            ["das Stadtmuseum", "das Theaterensemble", "das örtliche Orchester",
             "eine junge Malerin", "das Filmfestival", "die Stadtbibliothek"],
            ["eine neue Ausstellung", "das Programm für das Sommerfest",
             "ein Konzert in der alten Kirche", "die Restaurierung eines berühmten Gemäldes",
             "eine Reihe von Lesungen", "die Pläne für ein Freiluftkino",
             "eine Sammlung alter Fotografien", "die erste Premiere der Saison"]),
    },
    "labels": {"council": "Stadtrat", "weather": "Wetter", "football": "Fußball",
               "science": "Wissenschaft", "cooking": "Essen", "technology": "Technik",
               "health": "Gesundheit", "culture": "Kultur"},
    "pii": [
        "Leserinnen und Leser mit Fragen können die Redaktion unter {email} erreichen oder {phone} anrufen.",
        "Die Veranstalter bitten die Anwohner, ihre Hinweise bis Ende des Monats an {email} zu schicken.",
        "Für Anmeldungen ist das Büro werktags unter der Telefonnummer {phone} erreichbar.",
        "{name} ist für weitere Auskünfte unter {email} erreichbar.",
    ],
    "pii_cc": [
        "Während der Verhandlung las ein Anwalt die Kartennummer {cc} vor, mit der bezahlt worden war.",
        "Ein Teilnehmer hat versehentlich die Nummer {cc} im öffentlichen Kommentarbereich veröffentlicht.",
    ],
    "pii_ip": [
        "Techniker haben die fehlgeschlagenen Anmeldungen bis zur Adresse {ip} zurückverfolgt und sie gesperrt.",
        "Der Server mit der Adresse {ip} hat die Ergebnisse der Umfrage gespeichert.",
    ],
    "pii_iban": ["Spenden können auf das Konto {iban} überwiesen werden, teilte der Verein mit."],
}

# ---------------------------------------------------------------------------- French
_FR = {
    "subjects": [
        "le conseil municipal", "le gouvernement régional", "un groupe d'habitants",
        "la préfecture", "le comité d'organisation", "une petite équipe de bénévoles",
        "le conseil d'école", "la chambre de commerce", "le cabinet du maire",
        "une association locale", "le service d'urbanisme", "le comité de quartier",
        "l'université", "un journal régional", "la communauté de communes",
        "le conseil d'administration", "un groupe d'experts indépendants",
        "l'agence nationale", "l'office de tourisme", "un collectif de commerçants",
    ],
    "verbs": [
        "présenté", "discuté", "annoncé", "examiné", "critiqué", "défendu", "reporté",
        "salué", "expliqué", "testé", "décrit", "préparé", "soutenu", "remis en question",
        "publié", "étudié", "amélioré", "modifié", "approuvé", "rejeté", "confirmé",
        "révisé", "analysé", "célébré", "organisé", "proposé", "commenté", "détaillé",
    ],
    "objects": [
        "une nouvelle proposition", "le rapport final", "le budget annuel", "un plan détaillé",
        "les nouvelles règles", "les derniers chiffres", "une longue liste de recommandations",
        "les résultats de l'enquête", "le calendrier de l'année prochaine",
        "une stratégie ambitieuse", "le projet d'accord", "une série de réunions publiques",
        "la demande de financement", "les nouveaux horaires", "un court communiqué",
        "les consignes officielles", "la première version de l'étude",
        "un ensemble de mesures concrètes", "la décision précédente", "une lettre ouverte",
    ],
    "places": [
        "à la mairie", "lors d'une réunion publique", "à {town}",
        "pendant une conférence de presse", "à la médiathèque", "à la salle des fêtes",
        "sur la radio locale", "devant un large public", "au bureau régional",
        "dans une salle comble", "sur le site officiel", "sur la place du marché",
        "sur le campus de l'université", "au bord de la rivière", "dans le quartier nord",
        "lors d'une petite rencontre",
    ],
    "times": [
        "lundi", "mardi soir", "la semaine dernière", "au début du mois", "jeudi matin",
        "à la fin du mois de mars", "après des mois de débat", "ce week-end",
        "vendredi dernier", "au début du printemps", "ce matin", "mercredi après-midi",
        "il y a deux jours", "à la fin de l'année dernière", "ces dernières semaines",
        "au début de la saison",
    ],
    "connectives": [
        "Cependant,", "Entre-temps,", "En outre,", "Dans le même temps,",
        "Selon la presse locale,", "Comme prévu,", "À la surprise générale,",
        "Pour la première fois,", "En réponse,", "Plus tard,",
    ],
    "reasons": [
        "la demande a fortement augmenté ces derniers mois",
        "de nombreux habitants ont demandé plus d'informations",
        "les coûts étaient plus élevés que prévu",
        "la météo a rendu le projet initial impossible",
        "plusieurs experts ont exprimé de sérieuses inquiétudes",
        "l'ancien système ne fonctionnait plus bien",
        "le nombre de visiteurs continue d'augmenter",
        "le financement a enfin été accordé",
        "le vieux bâtiment a besoin de réparations urgentes",
        "les jeunes familles voulaient plus de choix",
        "la date limite a été repoussée à l'année prochaine",
        "les premiers résultats étaient très encourageants",
        "les commerces du centre ont signalé une baisse des ventes",
        "le débat public était devenu trop tendu",
    ],
    "because": " parce que ",
    "said": ["a déclaré que", "a expliqué que", "a souligné que", "a affirmé que",
             "a confirmé que", "a rappelé que"],
    "conj": ["et", "mais", "tandis que", "alors que"],
    "stats": [
        "Plus de {n} personnes ont assisté à la première réunion.",
        "Le projet devrait coûter environ {m} millions d'euros.",
        "Environ {pct} pour cent des habitants ont participé à l'enquête.",
        "Le nouveau centre ouvrira en {year} et emploiera {small} personnes.",
        "Près de {n} visiteurs sont venus à {town} ce week-end.",
        "Seulement {pct} pour cent des participants étaient satisfaits du résultat.",
        "La liste d'attente compte désormais {n} familles.",
        "L'an dernier, la ville a dépensé {m} millions d'euros pour les routes et les écoles.",
        "L'enquête a interrogé {n} foyers sur leurs habitudes quotidiennes.",
        "Le rapport compte {small} chapitres et plus de {pages} pages.",
    ],
    "roles": {
        "f": ["enseignante à l'école primaire", "directrice du service",
              "porte-parole de la mairie", "ingénieure à la retraite", "cheffe de projet",
              "habitante du quartier depuis vingt ans", "directrice du musée",
              "membre du comité", "chercheuse à l'université",
              "propriétaire d'une petite boulangerie", "infirmière à l'hôpital local",
              "entraîneuse de l'équipe des jeunes"],
        "m": ["enseignant à l'école primaire", "directeur du service",
              "porte-parole de la mairie", "ingénieur à la retraite", "chef de projet",
              "habitant du quartier depuis vingt ans", "directeur du musée",
              "membre du comité", "chercheur à l'université",
              "propriétaire d'une petite boulangerie", "infirmier à l'hôpital local",
              "entraîneur de l'équipe des jeunes"],
    },
    "first": {
        "f": ["Camille", "Claire", "Élodie", "Margaux", "Nathalie", "Sophie", "Juliette",
              "Isabelle", "Léa", "Manon"],
        "m": ["Julien", "Nicolas", "Antoine", "Mathieu", "Pierre", "Olivier", "Hugo",
              "Thomas", "François", "Laurent"],
    },
    "last": ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Fontaine",
             "Rousseau", "Lambert", "Chevalier", "Mercier", "Blanc", "Garnier", "Faure",
             "Perrin", "Morel", "Gauthier", "Roux", "Clément", "Bonnet"],
    "towns": ["Valmont-les-Bains", "Saint-Aubin-des-Prés", "Bellerive-sur-Orne",
              "Montclair-sur-Loue", "Fontclaire", "Lavaudieu-le-Haut", "Roche-Dorée",
              "Villeneuve-des-Saules", "Pradelles-sur-Vire", "Beaulieu-des-Vignes"],
    "topics": {
        "council": (
            ["le conseil municipal", "le maire", "la commission des finances",
             "l'opposition", "la première adjointe", "la majorité municipale"],
            ["le budget municipal", "un plan pour de nouvelles pistes cyclables",
             "le projet de rénovation de la mairie", "les nouvelles règles de stationnement",
             "le programme de logements", "une hausse des impôts locaux",
             "le plan d'urbanisme du port", "le contrat des transports publics"]),
        "weather": (
            ["le service météorologique national", "le centre de prévision régional",
             "une équipe de météorologues", "la protection civile",
             "la chambre d'agriculture", "le service de prévention des crues"],
            ["une alerte aux fortes pluies", "les prévisions pour le week-end",
             "les records de température", "de nouvelles données sur la sécheresse",
             "une alerte à la tempête sur la côte",
             "les mesures de la station de montagne", "les statistiques d'enneigement",
             "une alerte précoce au gel"]),
        "football": (
            ["le club", "l'entraîneur principal", "le capitaine de l'équipe", "la ligue",
             "le centre de formation", "le club des supporters"],
            ["la liste des joueurs pour le prochain match",
             "un nouveau programme d'entraînement", "les projets de transfert",
             "le prix des billets pour la saison", "la tactique pour le derby",
             "les plans d'un nouveau stade", "le contrat du gardien",
             "les résultats des examens médicaux"]),
        "science": (
            ["une équipe de chercheurs", "l'institut de recherche", "une jeune biologiste",
             "le laboratoire de l'université", "un consortium international",
             "le musée des sciences"],
            ["une étude sur la migration des oiseaux", "de nouvelles mesures du lac",
             "les résultats d'une longue expérience", "un modèle du climat local",
             "des échantillons de la vieille forêt", "un article sur les bactéries du sol",
             "les données du nouveau télescope", "une méthode pour recycler le plastique"]),
        "cooking": (
            ["le chef", "un restaurant familial", "l'école de cuisine",
             "un boulanger du quartier", "l'association du marché",
             "une critique gastronomique"],
            ["une nouvelle carte d'automne", "une recette de soupe de légumes",
             "la tarte aux pommes traditionnelle", "un plat aux champignons frais",
             "le pain du vieux four", "une recette de pâtes toute simple",
             "la liste des produits de saison", "un cours sur la cuisine régionale"]),
        "technology": (
            ["l'éditeur de logiciels", "une petite jeune pousse",
             "le service numérique de la ville", "l'opérateur de télécommunications",
             "un groupe de développeurs", "le salon des technologies"],
            ["une nouvelle application mobile", "la mise à jour du système de billetterie",
             "le plan pour un internet plus rapide",
             "un service de prise de rendez-vous en ligne", "la sécurité du réseau",
             "le prototype d'un bus électrique", "le portail des données ouvertes",
             "un outil pour traduire des documents"]),
        "health": (
            ["l'hôpital régional", "l'agence régionale de santé", "un groupe de médecins",
             "la pharmacie du quartier", "l'école d'infirmières",
             "une association de patients"],
            ["une campagne de vaccination", "les nouveaux horaires de la clinique",
             "un programme contre l'isolement", "les délais pour obtenir un rendez-vous",
             "une étude sur le sommeil", "le projet d'un nouveau service d'urgences",
             "des conseils pour les jours de canicule",
             "un bilan de santé gratuit pour les seniors"]),
        "culture": (
            ["le musée municipal", "la compagnie de théâtre", "l'orchestre local",
             "une jeune peintre", "le festival de cinéma", "la bibliothèque municipale"],
            ["une nouvelle exposition", "le programme du festival d'été",
             "un concert dans la vieille église", "la restauration d'un tableau célèbre",
             "une série de lectures", "le projet d'un cinéma en plein air",
             "une collection de photographies anciennes", "la première de la saison"]),
    },
    "labels": {"council": "Conseil municipal", "weather": "Météo", "football": "Football",
               "science": "Sciences", "cooking": "Cuisine", "technology": "Technologie",
               "health": "Santé", "culture": "Culture"},
    "pii": [
        "Les lecteurs qui ont des questions peuvent écrire à la rédaction à l'adresse {email} ou appeler le {phone}.",
        "Les organisateurs demandent aux habitants d'envoyer leurs remarques à {email} avant la fin du mois.",
        "Pour les réservations, le bureau est joignable en semaine au {phone}.",
        "{name} est joignable à l'adresse {email} pour plus d'informations.",
    ],
    "pii_cc": [
        "Pendant l'audience, un avocat a lu le numéro de carte {cc}, qui avait servi au paiement.",
        "Un participant a publié par erreur le numéro {cc} dans l'espace des commentaires.",
    ],
    "pii_ip": [
        "Les techniciens ont retrouvé l'adresse {ip} à l'origine des connexions échouées et l'ont bloquée.",
        "Le serveur à l'adresse {ip} a enregistré les résultats de l'enquête.",
    ],
    "pii_iban": ["Les dons peuvent être versés sur le compte {iban}, a précisé l'association."],
}

# --------------------------------------------------------------------------- Spanish
_ES = {
    "subjects": [
        "el ayuntamiento", "el gobierno regional", "un grupo de vecinos",
        "la diputación provincial", "el comité organizador", "un pequeño equipo de voluntarios",
        "el consejo escolar", "la cámara de comercio", "la oficina de la alcaldesa",
        "una asociación local", "el departamento de urbanismo", "la asociación de vecinos",
        "la universidad", "un periódico regional", "la mancomunidad", "la junta directiva",
        "un grupo de expertos independientes", "la agencia nacional", "la oficina de turismo",
        "una coalición de comercios locales",
    ],
    "verbs": [
        "presentó", "discutió", "anunció", "revisó", "criticó", "defendió", "aplazó",
        "recibió", "explicó", "probó", "describió", "preparó", "apoyó", "cuestionó",
        "publicó", "estudió", "mejoró", "modificó", "aprobó", "rechazó", "confirmó",
        "analizó", "organizó", "propuso", "elogió", "detalló", "valoró", "celebró",
    ],
    "objects": [
        "una nueva propuesta", "el informe final", "el presupuesto anual", "un plan detallado",
        "las nuevas normas", "las últimas cifras", "una larga lista de recomendaciones",
        "los resultados de la encuesta", "el calendario del próximo año",
        "una estrategia ambiciosa", "el borrador del acuerdo",
        "una serie de reuniones públicas", "la solicitud de financiación",
        "el horario actualizado", "un breve comunicado", "las directrices oficiales",
        "el primer borrador del estudio", "un conjunto de medidas prácticas",
        "la decisión anterior", "una carta abierta",
    ],
    "places": [
        "en el ayuntamiento", "en una reunión pública", "en {town}",
        "durante una rueda de prensa", "en la biblioteca municipal", "en el centro cívico",
        "en la radio local", "ante un numeroso público", "en la oficina regional",
        "en una sala llena", "en la página web oficial", "en la plaza del mercado",
        "en el campus de la universidad", "junto al río", "en el barrio norte",
        "en un pequeño encuentro",
    ],
    "times": [
        "el lunes", "el martes por la tarde", "la semana pasada", "a principios de mes",
        "el jueves por la mañana", "a finales de marzo", "tras meses de debate",
        "durante el fin de semana", "el viernes pasado", "a comienzos de la primavera",
        "esta mañana", "el miércoles por la tarde", "hace dos días",
        "a finales del año pasado", "en las últimas semanas", "al comienzo de la temporada",
    ],
    "connectives": [
        "Sin embargo,", "Mientras tanto,", "Además,", "Al mismo tiempo,",
        "Según la prensa local,", "Como se esperaba,", "Para sorpresa de muchos,",
        "Por primera vez,", "En respuesta,", "Más tarde,",
    ],
    "reasons": [
        "la demanda ha crecido mucho en los últimos meses",
        "muchos vecinos pidieron más información",
        "los costes fueron más altos de lo previsto",
        "el tiempo hizo imposible el plan original",
        "varios expertos expresaron serias dudas",
        "el sistema anterior ya no funcionaba bien",
        "el número de visitantes sigue creciendo",
        "la financiación por fin fue aprobada",
        "el viejo edificio necesita reparaciones urgentes",
        "las familias jóvenes querían más opciones",
        "el plazo se trasladó al año que viene",
        "los primeros resultados fueron muy prometedores",
        "las tiendas del centro registraron menos ventas",
        "el debate público se había vuelto demasiado tenso",
    ],
    "because": " porque ",
    "said": ["afirmó que", "explicó que", "subrayó que", "aseguró que", "confirmó que",
             "recordó que"],
    "conj": ["y", "pero", "mientras que"],
    "stats": [
        "Más de {n} personas asistieron a la primera reunión.",
        "Se espera que el proyecto cueste unos {m} millones de euros.",
        "Alrededor del {pct} por ciento de los vecinos participó en la encuesta.",
        "El nuevo centro abrirá en {year} y dará empleo a {small} personas.",
        "Cerca de {n} visitantes llegaron a {town} durante el fin de semana.",
        "Solo el {pct} por ciento de los participantes quedó satisfecho con el resultado.",
        "La lista de espera incluye ya a {n} familias.",
        "El año pasado el municipio gastó {m} millones de euros en calles y escuelas.",
        "La encuesta preguntó a {n} hogares por sus hábitos diarios.",
        "El informe tiene {small} capítulos y más de {pages} páginas.",
    ],
    "roles": {
        "f": ["profesora en la escuela primaria", "jefa del departamento",
              "portavoz del ayuntamiento", "ingeniera jubilada", "directora del proyecto",
              "vecina del barrio desde hace años", "directora del museo",
              "miembro del comité", "investigadora de la universidad",
              "dueña de una pequeña panadería", "enfermera del hospital local",
              "entrenadora del equipo juvenil"],
        "m": ["profesor en la escuela primaria", "jefe del departamento",
              "portavoz del ayuntamiento", "ingeniero jubilado", "director del proyecto",
              "vecino del barrio desde hace años", "director del museo",
              "miembro del comité", "investigador de la universidad",
              "dueño de una pequeña panadería", "enfermero del hospital local",
              "entrenador del equipo juvenil"],
    },
    "first": {
        "f": ["Lucía", "María", "Carmen", "Elena", "Paula", "Marta", "Sara", "Isabel",
              "Laura", "Cristina"],
        "m": ["Javier", "Alejandro", "Pablo", "Miguel", "Carlos", "Diego", "Sergio",
              "Antonio", "Manuel", "Andrés"],
    },
    "last": ["García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro",
             "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Serrano", "Molina", "Ortega",
             "Delgado", "Castro", "Rubio", "Herrera", "Medina"],
    "towns": ["Montelinda", "Villaverde del Río", "San Esteban de la Sierra",
              "Puebla de los Olivos", "Valdeluna", "Torrealta", "Castilblanco de Arriba",
              "Fuentesol", "Peñaclara", "Navalmorena"],
    "topics": {
        "council": (
            ["el pleno municipal", "el alcalde", "la comisión de hacienda", "la oposición",
             "la teniente de alcalde", "el equipo de gobierno"],
            ["el presupuesto municipal", "un plan de nuevos carriles bici",
             "el proyecto de reforma del ayuntamiento", "las nuevas normas de aparcamiento",
             "el programa de vivienda", "una subida de impuestos",
             "el plan urbanístico del puerto", "el contrato del transporte público"]),
        "weather": (
            ["el servicio meteorológico nacional", "el centro de predicción regional",
             "un equipo de meteorólogos", "la protección civil",
             "la asociación de agricultores", "la confederación hidrográfica"],
            ["un aviso por lluvias intensas", "la previsión para el fin de semana",
             "los récords de temperatura", "nuevos datos sobre la sequía",
             "una alerta por temporal en la costa",
             "las mediciones de la estación de montaña", "las estadísticas de nieve",
             "un aviso temprano por heladas"]),
        "football": (
            ["el club", "el entrenador", "el capitán del equipo", "la liga", "la cantera",
             "la peña de aficionados"],
            ["la convocatoria para el próximo partido", "un nuevo plan de entrenamiento",
             "los planes de fichajes", "el precio de los abonos", "la táctica para el derbi",
             "los planes de un nuevo estadio", "el contrato del portero",
             "los resultados de las pruebas médicas"]),
        "science": (
            ["un equipo de investigadores", "el instituto de investigación",
             "una joven bióloga", "el laboratorio de la universidad",
             "un consorcio internacional", "el museo de la ciencia"],
            ["un estudio sobre la migración de las aves", "nuevas mediciones del lago",
             "los resultados de un largo experimento", "un modelo del clima local",
             "muestras del viejo bosque", "un artículo sobre las bacterias del suelo",
             "los datos del nuevo telescopio", "un método para reciclar plástico"]),
        "cooking": (
            ["el jefe de cocina", "un restaurante familiar", "la escuela de cocina",
             "un panadero del barrio", "la asociación del mercado",
             "una crítica gastronómica"],
            ["una nueva carta de otoño", "una receta de sopa de verduras",
             "la tarta de manzana tradicional", "un plato con setas frescas",
             "el pan del viejo horno", "una receta sencilla de pasta",
             "la lista de ingredientes de temporada", "un curso de cocina regional"]),
        "technology": (
            ["la empresa de software", "una pequeña empresa emergente",
             "la oficina digital del municipio", "la operadora de telecomunicaciones",
             "un grupo de desarrolladores", "la feria tecnológica"],
            ["una nueva aplicación móvil", "la actualización del sistema de billetes",
             "el plan para un internet más rápido", "un servicio de cita previa por internet",
             "la seguridad de la red", "el prototipo de un autobús eléctrico",
             "el portal de datos abiertos", "una herramienta para traducir documentos"]),
        "health": (
            ["el hospital comarcal", "la consejería de sanidad", "un grupo de médicos",
             "la farmacia del barrio", "la escuela de enfermería",
             "una asociación de pacientes"],
            ["una campaña de vacunación", "el nuevo horario del centro de salud",
             "un programa contra la soledad", "las listas de espera para las citas",
             "un estudio sobre el sueño", "el plan de unas nuevas urgencias",
             "consejos para los días de calor", "una revisión gratuita para mayores"]),
        "culture": (
            ["el museo municipal", "la compañía de teatro", "la orquesta local",
             "una joven pintora", "el festival de cine", "la biblioteca pública"],
            ["una nueva exposición", "el programa del festival de verano",
             "un concierto en la vieja iglesia", "la restauración de un cuadro famoso",
             "un ciclo de lecturas", "los planes de un cine de verano",
             "una colección de fotografías antiguas", "el primer estreno de la temporada"]),
    },
    "labels": {"council": "Ayuntamiento", "weather": "El tiempo", "football": "Fútbol",
               "science": "Ciencia", "cooking": "Cocina", "technology": "Tecnología",
               "health": "Salud", "culture": "Cultura"},
    "pii": [
        "Los lectores que tengan preguntas pueden escribir a la redacción en {email} o llamar al {phone}.",
        "Los organizadores piden a los vecinos que envíen sus comentarios a {email} antes de fin de mes.",
        "Para reservas, la oficina atiende por teléfono en el {phone} de lunes a viernes.",
        "{name} atiende las consultas en la dirección {email}.",
    ],
    "pii_cc": [
        "Durante la vista, un abogado leyó el número de tarjeta {cc}, que se había usado para el pago.",
        "Un participante publicó por error el número {cc} en la sección de comentarios.",
    ],
    "pii_ip": [
        "Los técnicos rastrearon los accesos fallidos hasta la dirección {ip} y la bloquearon.",
        "El servidor con la dirección {ip} guardó los resultados de la encuesta.",
    ],
    "pii_iban": ["Las donaciones pueden hacerse en la cuenta {iban}, informó la asociación."],
}

# --------------------------------------------------------------------------- Italian
_IT = {
    "subjects": [
        "il consiglio comunale", "la giunta regionale", "un gruppo di residenti",
        "la provincia", "il comitato organizzatore", "una piccola squadra di volontari",
        "il consiglio d'istituto", "la camera di commercio", "l'ufficio del sindaco",
        "un'associazione locale", "l'ufficio urbanistica", "il comitato di quartiere",
        "l'università", "un giornale regionale", "l'unione dei comuni",
        "il consiglio di amministrazione", "un gruppo di esperti indipendenti",
        "l'agenzia nazionale", "l'ufficio turistico", "una rete di negozi locali",
    ],
    "verbs": [
        "presentato", "discusso", "annunciato", "esaminato", "criticato", "difeso",
        "rinviato", "accolto", "spiegato", "provato", "descritto", "preparato", "sostenuto",
        "messo in discussione", "pubblicato", "studiato", "migliorato", "modificato",
        "approvato", "respinto", "confermato", "rivisto", "analizzato", "celebrato",
        "organizzato", "proposto", "commentato", "illustrato",
    ],
    "objects": [
        "una nuova proposta", "la relazione finale", "il bilancio annuale",
        "un piano dettagliato", "le nuove regole", "gli ultimi dati",
        "un lungo elenco di raccomandazioni", "i risultati del sondaggio",
        "il calendario del prossimo anno", "una strategia ambiziosa", "la bozza dell'accordo",
        "una serie di incontri pubblici", "la richiesta di finanziamento", "il nuovo orario",
        "un breve comunicato", "le linee guida ufficiali", "la prima bozza dello studio",
        "un insieme di misure concrete", "la decisione precedente", "una lettera aperta",
    ],
    "places": [
        "in municipio", "durante un'assemblea pubblica", "a {town}",
        "durante una conferenza stampa", "nella biblioteca civica", "al centro civico",
        "alla radio locale", "davanti a un pubblico numeroso", "nella sede regionale",
        "in una sala affollata", "sul sito ufficiale", "in piazza del mercato",
        "nel campus dell'università", "lungo il fiume", "nel quartiere nord",
        "durante un piccolo incontro",
    ],
    "times": [
        "lunedì", "martedì sera", "la settimana scorsa", "all'inizio del mese",
        "giovedì mattina", "alla fine di marzo", "dopo mesi di dibattito",
        "nel fine settimana", "venerdì scorso", "all'inizio della primavera",
        "questa mattina", "mercoledì pomeriggio", "due giorni fa",
        "alla fine dell'anno scorso", "nelle ultime settimane", "all'inizio della stagione",
    ],
    "connectives": [
        "Tuttavia,", "Nel frattempo,", "Inoltre,", "Allo stesso tempo,",
        "Secondo la stampa locale,", "Come previsto,", "A sorpresa,", "Per la prima volta,",
        "In risposta,", "Più tardi,",
    ],
    "reasons": [
        "la domanda è cresciuta molto negli ultimi mesi",
        "molti cittadini hanno chiesto più informazioni",
        "i costi sono stati più alti del previsto",
        "il maltempo ha reso impossibile il piano originale",
        "diversi esperti hanno espresso seri dubbi",
        "il vecchio sistema non funzionava più bene",
        "il numero dei visitatori continua a crescere",
        "il finanziamento è stato finalmente approvato",
        "il vecchio edificio ha bisogno di lavori urgenti",
        "le giovani famiglie volevano più possibilità",
        "la scadenza è stata spostata all'anno prossimo",
        "i primi risultati erano molto promettenti",
        "i negozi del centro hanno registrato un calo delle vendite",
        "il dibattito pubblico era diventato troppo acceso",
    ],
    "because": " perché ",
    "said": ["ha dichiarato che", "ha spiegato che", "ha sottolineato che",
             "ha affermato che", "ha confermato che", "ha ricordato che"],
    "conj": ["e", "ma", "mentre"],
    "stats": [
        "Più di {n} persone hanno partecipato al primo incontro.",
        "Il progetto dovrebbe costare circa {m} milioni di euro.",
        "Circa il {pct} per cento dei residenti ha partecipato al sondaggio.",
        "Il nuovo centro aprirà nel {year} e darà lavoro a {small} persone.",
        "Quasi {n} visitatori sono arrivati a {town} nel fine settimana.",
        "Solo il {pct} per cento dei partecipanti si è detto soddisfatto del risultato.",
        "La lista d'attesa comprende ormai {n} famiglie.",
        "L'anno scorso il comune ha speso {m} milioni di euro per strade e scuole.",
        "Il sondaggio ha coinvolto {n} famiglie sulle loro abitudini quotidiane.",
        "La relazione ha {small} capitoli e più di {pages} pagine.",
    ],
    "roles": {
        "f": ["insegnante della scuola elementare", "responsabile del servizio",
              "portavoce del comune", "ingegnera in pensione", "responsabile del progetto",
              "residente del quartiere da molti anni", "direttrice del museo",
              "membro del comitato", "ricercatrice dell'università",
              "titolare di un piccolo forno", "infermiera dell'ospedale locale",
              "allenatrice della squadra giovanile"],
        "m": ["insegnante della scuola elementare", "responsabile del servizio",
              "portavoce del comune", "ingegnere in pensione", "responsabile del progetto",
              "residente del quartiere da molti anni", "direttore del museo",
              "membro del comitato", "ricercatore dell'università",
              "titolare di un piccolo forno", "infermiere dell'ospedale locale",
              "allenatore della squadra giovanile"],
    },
    "first": {
        "f": ["Giulia", "Francesca", "Chiara", "Sara", "Martina", "Elena", "Valentina",
              "Alessia", "Federica", "Silvia"],
        "m": ["Marco", "Luca", "Giovanni", "Matteo", "Andrea", "Davide", "Stefano", "Paolo",
              "Simone", "Lorenzo"],
    },
    "last": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
             "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa",
             "Giordano", "Mancini", "Rizzo", "Lombardi", "Moretti"],
    "towns": ["Borgoverde", "San Vito al Lago", "Castelrosso", "Valdorsa", "Montefiorito",
              "Pieve di Sassolungo", "Roccabella", "Fontanelle Alte", "Torre del Pino",
              "Colleverde"],
    "topics": {
        "council": (
            ["il consiglio comunale", "il sindaco", "la commissione bilancio",
             "l'opposizione", "la vicesindaca", "la maggioranza"],
            ["il bilancio comunale", "un piano per nuove piste ciclabili",
             "il progetto di restauro del municipio", "le nuove regole per i parcheggi",
             "il programma per la casa", "un aumento delle tasse",
             "il piano regolatore del porto", "il contratto del trasporto pubblico"]),
        "weather": (
            ["il servizio meteorologico nazionale", "il centro meteo regionale",
             "una squadra di meteorologi", "la protezione civile",
             "l'associazione degli agricoltori", "l'ufficio contro le alluvioni"],
            ["un'allerta per forti piogge", "le previsioni per il fine settimana",
             "i record di temperatura", "nuovi dati sulla siccità",
             "un avviso di burrasca sulla costa", "le misure della stazione di montagna",
             "le statistiche sulla neve", "un allarme per le gelate precoci"]),
        "football": (
            ["la società", "l'allenatore", "il capitano della squadra", "la lega",
             "il settore giovanile", "il club dei tifosi"],
            ["la lista dei convocati per la prossima partita",
             "un nuovo programma di allenamento", "i piani per il mercato",
             "i prezzi degli abbonamenti", "la tattica per il derby",
             "i piani per un nuovo stadio", "il contratto del portiere",
             "i risultati delle visite mediche"]),
        "science": (
            ["un gruppo di ricercatori", "l'istituto di ricerca", "una giovane biologa",
             "il laboratorio dell'università", "un consorzio internazionale",
             "il museo della scienza"],
            ["uno studio sulla migrazione degli uccelli", "nuove misure del lago",
             "i risultati di un lungo esperimento", "un modello del clima locale",
             "campioni del vecchio bosco", "un articolo sui batteri del suolo",
             "i dati del nuovo telescopio", "un metodo per riciclare la plastica"]),
        "cooking": (
            ["lo chef", "una trattoria di famiglia", "la scuola di cucina",
             "un fornaio del quartiere", "l'associazione del mercato",
             "una critica gastronomica"],
            ["un nuovo menù autunnale", "una ricetta per la zuppa di verdure",
             "la torta di mele tradizionale", "un piatto con funghi freschi",
             "il pane del vecchio forno", "una semplice ricetta di pasta",
             "l'elenco degli ingredienti di stagione", "un corso di cucina regionale"]),
        "technology": (
            ["l'azienda di software", "una piccola startup", "l'ufficio digitale del comune",
             "l'operatore telefonico", "un gruppo di sviluppatori",
             "la fiera della tecnologia"],
            ["una nuova applicazione", "l'aggiornamento del sistema dei biglietti",
             "il piano per una rete più veloce", "un servizio di prenotazione online",
             "la sicurezza della rete", "il prototipo di un autobus elettrico",
             "il portale dei dati aperti", "uno strumento per tradurre documenti"]),
        "health": (
            ["l'ospedale provinciale", "l'azienda sanitaria", "un gruppo di medici",
             "la farmacia del quartiere", "la scuola per infermieri",
             "un'associazione di pazienti"],
            ["una campagna di vaccinazione", "i nuovi orari dell'ambulatorio",
             "un programma contro la solitudine", "i tempi di attesa per le visite",
             "uno studio sul sonno", "il progetto di un nuovo pronto soccorso",
             "consigli per le giornate di caldo", "un controllo gratuito per gli anziani"]),
        "culture": (
            ["il museo civico", "la compagnia teatrale", "l'orchestra locale",
             "una giovane pittrice", "il festival del cinema", "la biblioteca comunale"],
            ["una nuova mostra", "il programma del festival estivo",
             "un concerto nella vecchia chiesa", "il restauro di un quadro famoso",
             "un ciclo di letture", "i piani per un cinema all'aperto",
             "una raccolta di vecchie fotografie", "la prima della stagione"]),
    },
    "labels": {"council": "Consiglio comunale", "weather": "Meteo", "football": "Calcio",
               "science": "Scienza", "cooking": "Cucina", "technology": "Tecnologia",
               "health": "Salute", "culture": "Cultura"},
    "pii": [
        "I lettori che hanno domande possono scrivere alla redazione all'indirizzo {email} o chiamare il numero {phone}.",
        "Gli organizzatori chiedono ai residenti di inviare le loro osservazioni a {email} entro la fine del mese.",
        "Per le prenotazioni l'ufficio risponde al numero {phone} nei giorni feriali.",
        "{name} risponde alle domande all'indirizzo {email}.",
    ],
    "pii_cc": [
        "Durante l'udienza un avvocato ha letto il numero di carta {cc}, usato per il pagamento.",
        "Un partecipante ha pubblicato per errore il numero {cc} nella sezione dei commenti.",
    ],
    "pii_ip": [
        "I tecnici hanno rintracciato l'indirizzo {ip} da cui partivano gli accessi falliti e lo hanno bloccato.",
        "Il server con l'indirizzo {ip} ha salvato i risultati del sondaggio.",
    ],
    "pii_iban": ["Le donazioni possono essere versate sul conto {iban}, ha spiegato l'associazione."],
}

MATERIAL = {"en": _EN, "de": _DE, "fr": _FR, "es": _ES, "it": _IT}
_EN["roles"]["m"] = _EN["roles"]["f"]
TOPIC_LABELS = {lang: m["labels"] for lang, m in MATERIAL.items()}

# ----------------------------------------------------------------------- boilerplate
UI = {
    "en": dict(
        nav=["Home", "News", "Politics", "Sport", "Science", "Food", "Technology", "Health",
             "Culture", "Opinion", "Contact"],
        related="Related articles", most_read="Most read", tags="Tags", by="By",
        published="Published", share="Share this article", newsletter="Our newsletter",
        newsletter_text="Get the most important local stories in your inbox every morning.",
        subscribe="Subscribe", email_placeholder="Your email address",
        cookie="We use cookies to improve your experience and to show personalised ads.",
        accept="Accept all", decline="Manage settings", rights="All rights reserved.",
        privacy="Privacy policy", terms="Terms of use", contact="Contact", about="About us",
        imprint="Legal notice", search="Search", read_more="Read more", comments="Comments",
        no_comments="No comments yet", recent="Recent posts", categories="Categories",
        posted="Posted on", read_also="Read also", advert="Advertisement",
        back_to_top="Back to top", follow="Follow us", home="Home",
        not_found="Page not found", not_found_text="Sorry, the page you requested does not exist.",
        links="Useful links", loading="Loading", login="Log in", archive="Archive",
        weather_box="Weather today", jobs="Jobs", events="Events"),
    "de": dict(
        nav=["Startseite", "Nachrichten", "Politik", "Sport", "Wissenschaft", "Essen",
             "Technik", "Gesundheit", "Kultur", "Meinung", "Kontakt"],
        related="Das könnte Sie auch interessieren", most_read="Meistgelesen",
        tags="Schlagwörter", by="Von", published="Veröffentlicht", share="Artikel teilen",
        newsletter="Unser Newsletter",
        newsletter_text="Die wichtigsten Nachrichten aus der Region jeden Morgen per E-Mail.",
        subscribe="Abonnieren", email_placeholder="Ihre E-Mail-Adresse",
        cookie="Wir verwenden Cookies, um Ihnen ein besseres Nutzererlebnis zu bieten.",
        accept="Alle akzeptieren", decline="Einstellungen", rights="Alle Rechte vorbehalten.",
        privacy="Datenschutz", terms="Nutzungsbedingungen", contact="Kontakt",
        about="Über uns", imprint="Impressum", search="Suche", read_more="Weiterlesen",
        comments="Kommentare", no_comments="Noch keine Kommentare",
        recent="Neueste Beiträge", categories="Kategorien", posted="Veröffentlicht am",
        read_also="Lesen Sie auch", advert="Anzeige", back_to_top="Nach oben",
        follow="Folgen Sie uns", home="Startseite", not_found="Seite nicht gefunden",
        not_found_text="Die angeforderte Seite existiert leider nicht.",
        links="Nützliche Links", loading="Wird geladen", login="Anmelden", archive="Archiv",
        weather_box="Wetter heute", jobs="Stellenmarkt", events="Veranstaltungen"),
    "fr": dict(
        nav=["Accueil", "Actualités", "Politique", "Sport", "Sciences", "Cuisine",
             "Technologie", "Santé", "Culture", "Opinions", "Contact"],
        related="À lire aussi", most_read="Les plus lus", tags="Mots-clés", by="Par",
        published="Publié le", share="Partager cet article", newsletter="Notre lettre d'information",
        newsletter_text="Recevez chaque matin l'essentiel de l'actualité locale.",
        subscribe="S'inscrire", email_placeholder="Votre adresse e-mail",
        cookie="Nous utilisons des cookies pour améliorer votre expérience de navigation.",
        accept="Tout accepter", decline="Paramétrer", rights="Tous droits réservés.",
        privacy="Politique de confidentialité", terms="Conditions d'utilisation",
        contact="Contact", about="Qui sommes-nous", imprint="Mentions légales",
        search="Rechercher", read_more="Lire la suite", comments="Commentaires",
        no_comments="Aucun commentaire pour le moment", recent="Articles récents",
        categories="Catégories", posted="Publié le", read_also="Lire aussi",
        advert="Publicité", back_to_top="Haut de page", follow="Suivez-nous", home="Accueil",
        not_found="Page introuvable", not_found_text="Désolé, la page demandée n'existe pas.",
        links="Liens utiles", loading="Chargement", login="Se connecter", archive="Archives",
        weather_box="La météo du jour", jobs="Emploi", events="Agenda"),
    "es": dict(
        nav=["Inicio", "Noticias", "Política", "Deportes", "Ciencia", "Cocina", "Tecnología",
             "Salud", "Cultura", "Opinión", "Contacto"],
        related="Noticias relacionadas", most_read="Lo más leído", tags="Etiquetas",
        by="Por", published="Publicado", share="Compartir esta noticia",
        newsletter="Nuestro boletín",
        newsletter_text="Recibe cada mañana las noticias más importantes de la comarca.",
        subscribe="Suscribirse", email_placeholder="Tu correo electrónico",
        cookie="Utilizamos cookies propias y de terceros para mejorar nuestros servicios.",
        accept="Aceptar todas", decline="Configurar", rights="Todos los derechos reservados.",
        privacy="Política de privacidad", terms="Aviso legal", contact="Contacto",
        about="Quiénes somos", imprint="Aviso legal", search="Buscar", read_more="Leer más",
        comments="Comentarios", no_comments="Todavía no hay comentarios",
        recent="Entradas recientes", categories="Categorías", posted="Publicado el",
        read_also="Te puede interesar", advert="Publicidad", back_to_top="Volver arriba",
        follow="Síguenos", home="Inicio", not_found="Página no encontrada",
        not_found_text="Lo sentimos, la página que buscas no existe.",
        links="Enlaces de interés", loading="Cargando", login="Iniciar sesión",
        archive="Hemeroteca", weather_box="El tiempo hoy", jobs="Empleo", events="Agenda"),
    "it": dict(
        nav=["Home", "Notizie", "Politica", "Sport", "Scienza", "Cucina", "Tecnologia",
             "Salute", "Cultura", "Opinioni", "Contatti"],
        related="Articoli correlati", most_read="I più letti", tags="Tag", by="Di",
        published="Pubblicato il", share="Condividi questo articolo",
        newsletter="La nostra newsletter",
        newsletter_text="Ricevi ogni mattina le notizie più importanti del territorio.",
        subscribe="Iscriviti", email_placeholder="Il tuo indirizzo email",
        cookie="Questo sito utilizza cookie tecnici e di profilazione.",
        accept="Accetta tutti", decline="Personalizza", rights="Tutti i diritti riservati.",
        privacy="Informativa sulla privacy", terms="Termini di utilizzo", contact="Contatti",
        about="Chi siamo", imprint="Note legali", search="Cerca", read_more="Leggi tutto",
        comments="Commenti", no_comments="Ancora nessun commento",
        recent="Articoli recenti", categories="Categorie", posted="Pubblicato il",
        read_also="Leggi anche", advert="Pubblicità", back_to_top="Torna su",
        follow="Seguici", home="Home", not_found="Pagina non trovata",
        not_found_text="Spiacenti, la pagina richiesta non esiste.",
        links="Link utili", loading="Caricamento", login="Accedi", archive="Archivio",
        weather_box="Il meteo di oggi", jobs="Lavoro", events="Eventi"),
}

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
           "settembre", "ottobre", "novembre", "dicembre"],
}


def fmt_date(lang: str, year: int, month: int, day: int) -> str:
    """A date as a local newspaper in `lang` prints it."""
    name = _MONTHS[lang][month - 1]
    return {"en": f"{name} {day}, {year}", "de": f"{day}. {name} {year}",
            "fr": f"{day} {name} {year}", "es": f"{day} de {name} de {year}",
            "it": f"{day} {name} {year}"}[lang]


def fold_ascii(text: str) -> str:
    """'Élodie Lefèvre' -> 'Elodie Lefevre' (for slugs and e-mail local parts)."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("œ", "oe")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


# --------------------------------------------------------------------------- grammar
_THOUSANDS = {"en": ",", "de": ".", "fr": " ", "es": ".", "it": "."}
_DECIMAL = {"en": ".", "de": ",", "fr": ",", "es": ",", "it": ","}


def _fmt_int(lang: str, n: int) -> str:
    s = f"{n:,}"
    return s.replace(",", _THOUSANDS[lang])


def _fmt_dec(lang: str, x: float) -> str:
    return f"{x:.1f}".replace(".", _DECIMAL[lang])


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _elide_fr(word: str, following: str) -> str:
    """'que' + 'un groupe' -> "qu'un groupe" (French elision before a vowel)."""
    if following[:1].lower() in "aeiouéèêâîôûh" and not following.startswith(("h", "H")):
        return word[:-1] + "'" + following
    return word + " " + following


@dataclasses.dataclass
class Person:
    name: str
    gender: str
    role: str
    last: str = ""


@dataclasses.dataclass
class Context:
    """What one article keeps constant: language, topic, town and the people quoted."""
    lang: str
    topic: str
    town: str
    people: list
    introduced: set = dataclasses.field(default_factory=set)  # people named with role
    decks: dict = dataclasses.field(default_factory=dict)  # see _draw


@dataclasses.dataclass
class Article:
    lang: str
    topic: str
    town: str
    title: str
    author: str
    paragraphs: list  # list of lists of sentences

    @property
    def text(self) -> str:
        return "\n".join(" ".join(p) for p in self.paragraphs)

    def word_count(self) -> int:
        return sum(len(s.split()) for p in self.paragraphs for s in p)


def make_person(rng: random.Random, lang: str) -> Person:
    m = MATERIAL[lang]
    g = rng.choice("fm")
    last = rng.choice(m["last"])
    return Person(f"{rng.choice(m['first'][g])} {last}", g, rng.choice(m["roles"][g]), last)


def make_context(rng: random.Random, lang: str, topic: str | None = None) -> Context:
    m = MATERIAL[lang]
    topic = topic or rng.choice(TOPICS)
    people = [make_person(rng, lang) for _ in range(rng.randint(2, 3))]
    return Context(lang, topic, rng.choice(m["towns"]), people)


def _draw(rng: random.Random, ctx: Context, key: str, items: list, refill: bool = True):
    """Draw from a per-article shuffled deck: no phrase repeats until its list is used up,
    which keeps the duplicated n-gram fractions of an article low (Gopher repetition).
    Without `refill`, an exhausted deck gives None."""
    deck = ctx.decks.get(key)
    if not deck:
        if deck is not None and not refill:
            return None
        deck = list(items)
        rng.shuffle(deck)
        ctx.decks[key] = deck
    return deck.pop()


def _subject(rng: random.Random, ctx: Context) -> str:
    m = MATERIAL[ctx.lang]
    r = rng.random()
    if r < 0.15:
        return rng.choice(ctx.people).name
    if r < 0.5:
        got = _draw(rng, ctx, "tsubj", m["topics"][ctx.topic][0], refill=False)
        if got:
            return got
    return _draw(rng, ctx, "subj", m["subjects"])


def _object(rng: random.Random, ctx: Context) -> str:
    m = MATERIAL[ctx.lang]
    if rng.random() < 0.45:
        got = _draw(rng, ctx, "tobj", m["topics"][ctx.topic][1], refill=False)
        if got:
            return got
    return _draw(rng, ctx, "obj", m["objects"])


def _place(rng: random.Random, ctx: Context) -> str:
    return _draw(rng, ctx, "place", MATERIAL[ctx.lang]["places"]).format(town=ctx.town)


_ON_DATE = {"en": "on {month} {day}", "de": "am {day}. {month}", "fr": "le {day} {month}",
            "es": "el {day} de {month}", "it": "il {day} {month}"}


def _time(rng: random.Random, ctx: Context) -> str:
    if rng.random() < 0.25:
        return _ON_DATE[ctx.lang].format(month=rng.choice(_MONTHS[ctx.lang][:5]),
                                         day=rng.randint(2, 28))
    return _draw(rng, ctx, "time", MATERIAL[ctx.lang]["times"])


def _clause(lang: str, subj: str, verb: str, obj: str, extras: list, front: str = "",
            sub: bool = False) -> str:
    """One clause in the word order of `lang`; `front` is a fronted time or connective."""
    tail = " ".join(e for e in extras if e)
    if lang == "de":
        if sub:  # subordinate: verb last
            words = [subj, obj, tail, verb, "hat"]
        elif front:  # verb second
            words = [front, "hat", subj, obj, tail, verb]
        else:
            words = [subj, "hat", obj, tail, verb]
        return " ".join(w for w in words if w)
    aux = {"en": "", "fr": "a", "es": "", "it": "ha"}[lang]
    words = [subj, aux, verb, obj, tail]
    core = " ".join(w for w in words if w)
    if front:
        return f"{front} {core}"
    return core


def _front_time(lang: str, t: str) -> str:
    return t if lang == "de" else t + ","


def _stat(rng: random.Random, ctx: Context) -> str:
    lang = ctx.lang
    tpl = _draw(rng, ctx, "stat", MATERIAL[lang]["stats"])
    return tpl.format(n=_fmt_int(lang, rng.randint(12, 4800)),
                      m=_fmt_dec(lang, rng.randint(12, 480) / 10),
                      pct=rng.randint(6, 94), year=rng.randint(2027, 2031),
                      small=rng.randint(3, 60), pages=rng.randint(40, 400), town=ctx.town)


def sentence(rng: random.Random, ctx: Context) -> str:
    """One sentence of article prose in ctx.lang about ctx.topic."""
    lang, m = ctx.lang, MATERIAL[ctx.lang]
    r = rng.random()
    subj, verb, obj = _subject(rng, ctx), _draw(rng, ctx, "verb", m["verbs"]), _object(rng, ctx)
    if r < 0.22:  # plain: S V O place time
        extras = [_place(rng, ctx), _time(rng, ctx)]
        if rng.random() < 0.4:
            extras.pop(rng.randrange(2))
        if lang == "de":
            extras.reverse()  # German: time before place
        s = _clause(lang, subj, verb, obj, extras)
    elif r < 0.38:  # fronted time
        s = _clause(lang, subj, verb, obj, [_place(rng, ctx)],
                    front=_cap(_front_time(lang, _time(rng, ctx))))
    elif r < 0.50:  # fronted connective
        extra = _time(rng, ctx) if rng.random() < 0.5 else _place(rng, ctx)
        s = _clause(lang, subj, verb, obj, [extra], front=_draw(rng, ctx, "conn", m["connectives"]))
    elif r < 0.64:  # reported speech
        p = rng.choice(ctx.people)
        if p.name not in ctx.introduced:  # the first quote gives the role, later ones not
            ctx.introduced.add(p.name)
            who = f"{p.name}, {p.role},"
        else:
            who = p.name if rng.random() < 0.5 else p.last
        inner = _clause(lang, subj, verb, obj, [_place(rng, ctx)], sub=True)
        said = _draw(rng, ctx, "said", m["said"])
        if lang == "fr":
            head, que = said.rsplit(" ", 1)
            s = f"{who} {head} {_elide_fr(que, inner)}"
        else:
            s = f"{who} {said} {inner}"
    elif r < 0.76:  # causal
        main = _clause(lang, subj, verb, obj, [_time(rng, ctx)])
        reason = _draw(rng, ctx, "reason", m["reasons"])
        if lang == "fr":
            s = main + " parce " + _elide_fr("que", reason)
        else:
            s = main + m["because"] + reason
    elif r < 0.88:  # compound
        second = _clause(lang, _subject(rng, ctx), _draw(rng, ctx, "verb", m["verbs"]),
                         _object(rng, ctx),
                         [_place(rng, ctx)])
        conj = rng.choice(m["conj"])
        if lang == "es" and conj == "y" and second.lower().startswith(("i", "hi")):
            conj = "e"
        if lang == "fr" and conj.endswith("que"):
            conj_second = _elide_fr(conj, second)
        else:
            conj_second = f"{conj} {second}"
        s = _clause(lang, subj, verb, obj, [_time(rng, ctx)]) + ", " + conj_second
    else:
        return _stat(rng, ctx)
    return _cap(s) + "."


def title_for(rng: random.Random, ctx: Context) -> str:
    m = MATERIAL[ctx.lang]
    core = _clause(ctx.lang, _subject(rng, ctx), _draw(rng, ctx, "verb", m["verbs"]),
                   _object(rng, ctx), [])
    return f"{ctx.town}: {_cap(core)}"


def make_article(rng: random.Random, lang: str, topic: str | None = None,
                 min_paragraphs: int = 4, max_paragraphs: int = 8,
                 max_sentences: int = 4) -> Article:
    """A whole article: title, author and 4-8 paragraphs of 2-4 sentences."""
    ctx = make_context(rng, lang, topic)
    paragraphs = []
    for _ in range(rng.randint(min_paragraphs, max_paragraphs)):
        paragraphs.append([sentence(rng, ctx) for _ in range(rng.randint(2, max_sentences))])
    # the lead names the town, as local news does
    lead = _clause(lang, _subject(rng, ctx), _draw(rng, ctx, "verb", MATERIAL[lang]["verbs"]),
                   _object(rng, ctx), [_IN_TOWN[lang] + " " + ctx.town])
    paragraphs[0].insert(0, _cap(lead) + ".")
    author = make_person(rng, lang).name
    return Article(lang, ctx.topic, ctx.town, title_for(rng, ctx), author, paragraphs)


_IN_TOWN = {"en": "in", "de": "in", "fr": "à", "es": "en", "it": "a"}


def article_context(rng: random.Random, article: Article) -> Context:
    """A context for writing more sentences that fit an existing article."""
    ctx = make_context(rng, article.lang, article.topic)
    ctx.town = article.town
    return ctx


def pii_sentences(lang: str, rng: random.Random, values: dict) -> list:
    """Sentences in `lang` that carry the given PII values (keys: email, phone, name, and
    optionally cc, ip, iban)."""
    m = MATERIAL[lang]
    out = []
    tpls = list(m["pii"])
    rng.shuffle(tpls)
    need = {"email", "phone"}
    for tpl in tpls:
        keys = {k for k in ("email", "phone") if "{" + k + "}" in tpl}
        if keys & need:
            out.append(tpl.format(**values))
            need -= keys
        if not need:
            break
    for key in ("cc", "ip", "iban"):
        if values.get(key):
            out.append(rng.choice(m["pii_" + key]).format(**values))
    return out


# ------------------------------------------------------------ low-quality material
LOREM_WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud "
    "exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in "
    "reprehenderit voluptate velit esse cillum eu fugiat nulla pariatur excepteur sint "
    "occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est "
    "laborum").split()


def lorem_paragraph(rng: random.Random, first: bool = False) -> str:
    words = [rng.choice(LOREM_WORDS) for _ in range(rng.randint(30, 70))]
    if first:
        words[:5] = ["lorem", "ipsum", "dolor", "sit", "amet"]
    out, sent = [], []
    for w in words:
        sent.append(w)
        if len(sent) >= rng.randint(6, 14):
            out.append(_cap(" ".join(sent)) + ".")
            sent = []
    if sent:
        out.append(_cap(" ".join(sent)) + ".")
    return " ".join(out)


SPAM = {
    "casino": [
        "Claim your {n} free spins today and double your first deposit",
        "Best online casino bonus of {year}, no wagering, instant payout",
        "Play slots, roulette and blackjack now, jackpot over {n} thousand",
        "Exclusive VIP bonus code inside, register in one minute",
        "Win big tonight, the lucky wheel is waiting for you",
    ],
    "pills": [
        "Buy cheap pills online without prescription, fast discreet delivery",
        "Discount pharmacy deals, save up to {n} percent on every order",
        "Best prices guaranteed, order now and get free shipping worldwide",
        "Top quality generic tablets, limited offer ends tonight",
        "No doctor visit needed, secure checkout, buy today",
    ],
    "adult": [
        "Adult videos updated daily, thousands of new clips every week",
        "Join now for free and get unlimited access for {n} days",
        "Hot adult chat rooms open all night, sign up in seconds",
        "Premium adult content, new members get a special discount",
        "Click here to enter, adults only, over {n} categories",
    ],
}

STUFFED = [
    "cheap hotels {town} best price cheap hotels {town} book now cheap hotels",
    "best deals best deals best deals online shop discount sale best deals",
    "buy now buy cheap buy online buy today buy now buy cheap",
    "free download free movies free games free music free download",
    "car insurance cheap car insurance quote cheap car insurance online",
]

SHORT_BODIES = ["Page not found", "Coming soon", "Hello world", "Under construction",
                "Test page", "Maintenance", "Access denied", "Nothing here"]
