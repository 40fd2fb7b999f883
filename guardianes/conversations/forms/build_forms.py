"""Rebuild the shipped XLSForm spreadsheets from the definitions below.

Staff edit the .xlsx files directly; developers change this file and run
`python -m guardianes.conversations.forms.build_forms` so the spreadsheets stay reproducible.
A test checks that the committed .xlsx files say what these definitions say.

Conventions (see `guardianes.conversations.xlsform`): settings `kind` (card | quiz),
`service`, `space_question`, `title_en`; survey `max_photos`, `obligation`, `failure_if`;
choices `correct`, `failure`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

FORMS_DIR = Path(__file__).resolve().parent
ES = "Español (es)"
EN = "English (en)"
DEFAULT_LANGUAGE = ES
SURVEY_COLUMNS = (
    "type",
    "name",
    f"label::{ES}",
    f"label::{EN}",
    f"hint::{ES}",
    f"hint::{EN}",
    "required",
    f"required_message::{ES}",
    f"required_message::{EN}",
    "constraint",
    f"constraint_message::{ES}",
    f"constraint_message::{EN}",
    "relevant",
    "calculation",
    "choice_filter",
    "max_photos",
    "obligation",
    "failure_if",
)
# The quiz also carries, per question, the reason of its right answer and its course topic.
QUIZ_SURVEY_COLUMNS = (*SURVEY_COLUMNS, f"explanation::{ES}", f"explanation::{EN}", "topic")
CHOICE_COLUMNS = ("list_name", "name", f"label::{ES}", f"label::{EN}", "correct", "failure")
SETTINGS_COLUMNS = (
    "form_id",
    "version",
    "form_title",
    "title_en",
    "default_language",
    "kind",
    "service",
    "space_question",
)
# Fixed workbook timestamps so rebuilding unchanged forms changes no cell metadata.
_FIXED_TIME = datetime(2026, 11, 1)

Row = dict[str, Any]


def q(kind: str, name: str, es: str = "", en: str = "", **columns: Any) -> Row:
    """A survey row; keyword names: hint=(es, en), constraint_message=(es, en), etc."""
    row: Row = {"type": kind, "name": name, f"label::{ES}": es, f"label::{EN}": en}
    for key, value in columns.items():
        if isinstance(value, tuple):
            row[f"{key}::{ES}"], row[f"{key}::{EN}"] = value
        else:
            row[key] = value
    return row


def choices(
    list_name: str,
    *items: tuple[str, str, str] | tuple[str, str, str, bool],
    failures: tuple[str, ...] = (),
) -> list[Row]:
    """Choice rows; a fourth item `True` marks the correct answer of a quiz question.

    `failures` names the choices that mean a contract obligation failed (column `failure`).
    """
    return [
        {
            "list_name": list_name,
            "name": item[0],
            f"label::{ES}": item[1],
            f"label::{EN}": item[2],
            "correct": "yes" if len(item) > 3 and item[3] else None,
            "failure": "yes" if item[0] in failures else None,
        }
        for item in items
    ]


REQUIRED_ES_EN = ("Esta pregunta es obligatoria.", "This question is required.")
NOT_FUTURE = ("La fecha no puede ser futura.", "The date can't be in the future.")
COUNT_RANGE = ("Escribe un número de 0 a 100.", "Type a number from 0 to 100.")

YES_NO = choices("si_no", ("si", "Sí", "Yes"), ("no", "No", "No"))
# Yes/no lists for obligations: "no" fails a duty done ("¿está podado?"), "sí" reports a problem.
DONE_YES_NO = choices("cumple", ("si", "Sí", "Yes"), ("no", "No", "No"), failures=("no",))
PROBLEM_YES_NO = choices("hay_problema", ("si", "Sí", "Yes"), ("no", "No", "No"), failures=("si",))
CONDITION = choices(
    "estado",
    ("bien", "Bien", "Good"),
    ("regular", "Regular", "Fair"),
    ("mal", "Mal", "Poor"),
    ("no_hay", "No hay", "There is none"),
    failures=("mal",),
)
RATING = choices(
    "calificacion",
    ("1", "1 - Muy mal", "1 - Very poor"),
    ("2", "2 - Mal", "2 - Poor"),
    ("3", "3 - Regular", "3 - Fair"),
    ("4", "4 - Bien", "4 - Good"),
    ("5", "5 - Muy bien", "5 - Very good"),
)
COMMENT = q(
    "text",
    "comentario",
    "¿Algo más que quieras contarnos?",
    "Anything else you want to tell us?",
)

PARKS: dict[str, Any] = {
    "file": "tarjeta_parques.xlsx",
    "settings": {
        "form_id": "tarjeta_parques",
        "version": "2026.11.2",
        "form_title": "Tarjeta de parques y áreas verdes",
        "title_en": "Parks and green spaces card",
        "default_language": DEFAULT_LANGUAGE,
        "kind": "card",
        "service": "green_space_maintenance",
        "space_question": "ubicacion",
    },
    "survey": [
        q(
            "geopoint",
            "ubicacion",
            "Comparte la ubicación del parque o área verde.",
            "Share the location of the park or green space.",
            required="yes",
            required_message=REQUIRED_ES_EN,
        ),
        q(
            "select_one cumple",
            "poda",
            "¿El pasto está podado?",
            "Is the grass mowed?",
            required="yes",
            obligation="mowing",
        ),
        q(
            "select_one estado",
            "riego",
            "¿Cómo está el riego de las áreas verdes?",
            "How is the irrigation of the green areas?",
            required="yes",
            obligation="irrigation",
        ),
        q(
            "select_one basura",
            "basura",
            "¿Cuánta basura hay tirada?",
            "How much litter is there?",
            required="yes",
            obligation="litter",
        ),
        q(
            "select_one hay_problema",
            "arboles_problema",
            "¿Hay árboles secos, caídos o que necesitan poda?",
            "Are there dead or fallen trees, or trees that need pruning?",
            required="yes",
            obligation="trees",
        ),
        q(
            "integer",
            "arboles_cuantos",
            "¿Cuántos árboles tienen problemas?",
            "How many trees have problems?",
            required="yes",
            relevant="${arboles_problema} = 'si'",
            constraint=". >= 1 and . <= 500",
            constraint_message=("Escribe un número de 1 a 500.", "Type a number from 1 to 500."),
        ),
        q("begin_group", "equipamiento", "Equipamiento", "Equipment"),
        q(
            "select_one estado",
            "juegos",
            "Juegos infantiles",
            "Playground equipment",
            required="yes",
            obligation="playground",
        ),
        q(
            "select_multiple danos",
            "juegos_danos",
            "¿Qué daños tienen los juegos?",
            "What damage does the playground equipment have?",
            required="yes",
            relevant="${juegos} = 'regular' or ${juegos} = 'mal'",
        ),
        q(
            "select_one estado",
            "equipo_deportivo",
            "Canchas y aparatos de ejercicio",
            "Sports courts and exercise equipment",
            required="yes",
        ),
        q(
            "select_one estado",
            "bancas",
            "Bancas",
            "Benches",
            required="yes",
            obligation="benches",
        ),
        q(
            "select_one estado",
            "alumbrado",
            "Alumbrado dentro del parque",
            "Lighting inside the park",
            required="yes",
        ),
        q(
            "integer",
            "luminarias_apagadas",
            "¿Cuántas luminarias del parque están apagadas o rotas?",
            "How many of the park's lamps are out or broken?",
            relevant="${alumbrado} != 'no_hay'",
            constraint=". >= 0 and . <= 100",
            constraint_message=COUNT_RANGE,
        ),
        q("end_group", ""),
        q(
            "image",
            "fotos",
            "Envía fotos del parque (hasta 5).",
            "Send photos of the park (up to 5).",
            hint=("Muestra los problemas que encontraste.", "Show the problems you found."),
            max_photos="5",
        ),
        q(
            "select_one calificacion",
            "calificacion",
            "En general, ¿cómo calificas el mantenimiento del parque?",
            "Overall, how do you rate the park's maintenance?",
            required="yes",
        ),
        COMMENT,
        q(
            "calculate",
            "problemas",
            calculation=(
                "if(${poda} = 'no', 1, 0) + if(${riego} = 'mal', 1, 0)"
                " + if(${basura} = 'mucha', 1, 0) + if(${arboles_problema} = 'si', 1, 0)"
                " + if(${juegos} = 'mal', 1, 0) + if(${bancas} = 'mal', 1, 0)"
                " + if(${alumbrado} = 'mal', 1, 0)"
            ),
        ),
    ],
    "choices": DONE_YES_NO
    + PROBLEM_YES_NO
    + CONDITION
    + RATING
    + choices(
        "basura",
        ("nada", "Nada", "None"),
        ("poca", "Poca", "A little"),
        ("mucha", "Mucha", "A lot"),
        failures=("mucha",),
    )
    + choices(
        "danos",
        ("oxidados", "Oxidados", "Rusty"),
        ("rotos", "Rotos o incompletos", "Broken or incomplete"),
        ("filosos", "Orillas filosas o clavos", "Sharp edges or nails"),
        ("sin_piso", "Sin piso de seguridad", "No safety surface"),
    ),
}

GARBAGE: dict[str, Any] = {
    "file": "tarjeta_basura.xlsx",
    "settings": {
        "form_id": "tarjeta_basura",
        "version": "2026.11.2",
        "form_title": "Tarjeta de recolección de basura",
        "title_en": "Garbage collection card",
        "default_language": DEFAULT_LANGUAGE,
        "kind": "card",
        "service": "garbage_collection",
        "space_question": "ubicacion",
    },
    "survey": [
        q(
            "geopoint",
            "ubicacion",
            "Comparte la ubicación de tu calle.",
            "Share the location of your street.",
            hint=(
                "Así sabemos qué ruta de recolección te toca.",
                "So we know which collection route serves you.",
            ),
            required="yes",
            required_message=REQUIRED_ES_EN,
        ),
        q(
            "select_multiple dias",
            "dias_programados",
            "¿Qué días debe pasar el camión de la basura en tu calle?",
            "On which days should the garbage truck come to your street?",
            required="yes",
        ),
        q(
            "select_one cumple",
            "dias_cumplidos",
            "En las últimas dos semanas, ¿el camión pasó en esos días?",
            "In the last two weeks, did the truck come on those days?",
            required="yes",
            obligation="collection_day",
        ),
        q(
            "date",
            "ultima_recoleccion",
            "¿Cuándo pasó el camión por última vez?",
            "When did the truck last come?",
            required="yes",
            constraint=". <= today()",
            constraint_message=NOT_FUTURE,
        ),
        q(
            "integer",
            "recolecciones_perdidas",
            "¿Cuántas veces no pasó en las últimas dos semanas?",
            "How many times did it not come in the last two weeks?",
            required="yes",
            relevant="${dias_cumplidos} = 'no'",
            constraint=". >= 1 and . <= 14",
            constraint_message=("Escribe un número de 1 a 14.", "Type a number from 1 to 14."),
        ),
        q(
            "select_one hay_problema",
            "tiradero",
            "¿Hay un tiradero clandestino cerca?",
            "Is there an illegal dump nearby?",
            required="yes",
            obligation="dumping",
        ),
        q(
            "geopoint",
            "tiradero_ubicacion",
            "Comparte la ubicación del tiradero.",
            "Share the location of the dump.",
            relevant="${tiradero} = 'si'",
        ),
        q(
            "image",
            "fotos",
            "Envía fotos (hasta 3).",
            "Send photos (up to 3).",
            max_photos="3",
        ),
        COMMENT,
        q(
            "calculate",
            "incumplimiento",
            calculation="if(${dias_cumplidos} = 'no' or ${tiradero} = 'si', 'si', 'no')",
        ),
    ],
    "choices": DONE_YES_NO
    + PROBLEM_YES_NO
    + choices(
        "dias",
        ("lunes", "Lunes", "Monday"),
        ("martes", "Martes", "Tuesday"),
        ("miercoles", "Miércoles", "Wednesday"),
        ("jueves", "Jueves", "Thursday"),
        ("viernes", "Viernes", "Friday"),
        ("sabado", "Sábado", "Saturday"),
        ("domingo", "Domingo", "Sunday"),
    ),
}

LIGHTING: dict[str, Any] = {
    "file": "tarjeta_alumbrado.xlsx",
    "settings": {
        "form_id": "tarjeta_alumbrado",
        "version": "2026.11.2",
        "form_title": "Tarjeta de alumbrado público",
        "title_en": "Street lighting card",
        "default_language": DEFAULT_LANGUAGE,
        "kind": "card",
        "service": "street_lighting",
        "space_question": "ubicacion",
    },
    "survey": [
        q(
            "geopoint",
            "ubicacion",
            "Comparte la ubicación de la calle que revisas.",
            "Share the location of the street you are checking.",
            required="yes",
            required_message=REQUIRED_ES_EN,
        ),
        q(
            "text",
            "calle",
            "¿Qué calle es, o entre qué calles?",
            "Which street is it, or between which streets?",
        ),
        q(
            "integer",
            "lamparas_apagadas",
            "¿Cuántas lámparas están apagadas?",
            "How many lamps are out?",
            required="yes",
            constraint=". >= 0 and . <= 100",
            constraint_message=COUNT_RANGE,
            obligation="lighting",
            failure_if=". > 0",
        ),
        q(
            "integer",
            "postes_danados",
            "¿Cuántos postes están dañados?",
            "How many poles are damaged?",
            required="yes",
            constraint=". >= 0 and . <= 100",
            constraint_message=COUNT_RANGE,
        ),
        q(
            "select_multiple dano_poste",
            "tipo_dano",
            "¿Qué daño tienen los postes?",
            "What damage do the poles have?",
            required="yes",
            relevant="${postes_danados} > 0",
        ),
        q(
            "select_one si_no",
            "reportado",
            "¿Ya lo reportaste al municipio?",
            "Have you already reported it to the municipality?",
            required="yes",
        ),
        q(
            "text",
            "folio",
            "¿Cuál es el folio de tu reporte?",
            "What is your report's reference number?",
            relevant="${reportado} = 'si'",
            constraint="regex(., '^[A-Za-z0-9/-]{3,20}$')",
            constraint_message=(
                "El folio tiene de 3 a 20 letras, números o guiones.",
                "The reference has 3 to 20 letters, digits or dashes.",
            ),
        ),
        q("image", "fotos", "Envía fotos (hasta 3).", "Send photos (up to 3).", max_photos="3"),
        COMMENT,
    ],
    "choices": YES_NO
    + choices(
        "dano_poste",
        ("inclinado", "Inclinado", "Leaning"),
        ("cables", "Cables expuestos", "Exposed wires"),
        ("oxidado", "Oxidado", "Rusty"),
        ("sin_tapa", "Registro sin tapa", "Missing access cover"),
    ),
}


def _quiz_question(
    number: int,
    es: str,
    en: str,
    options: list[tuple[str, str, bool]],
    *,
    topic: str,
    why: tuple[str, str],
    multiple: bool = False,
) -> tuple[Row, list[Row]]:
    name = f"p{number:02d}"
    kind = "select_multiple" if multiple else "select_one"
    row = q(f"{kind} {name}", name, es, en, required="yes", explanation=why, topic=topic)
    items = [(chr(ord("a") + i), o_es, o_en, ok) for i, (o_es, o_en, ok) in enumerate(options)]
    return row, choices(name, *items)


_QUIZ = [
    _quiz_question(
        1,
        "¿Quién encabeza el gobierno del municipio?",
        "Who heads the municipal government?",
        [
            ("El gobernador del estado", "The state governor", False),
            ("La presidenta o presidente municipal", "The municipal president (mayor)", True),
            ("El síndico", "The syndic (síndico)", False),
        ],
        topic="gobierno",
        why=(
            "La presidenta o el presidente municipal encabeza la administración del municipio; "
            "el gobernador encabeza el estado.",
            "The municipal president heads the municipal administration; the governor heads the "
            "state.",
        ),
    ),
    _quiz_question(
        2,
        "¿Quién aprueba el presupuesto de egresos del municipio?",
        "Who approves the municipality's spending budget?",
        [
            ("El Ayuntamiento en sesión de Cabildo", "The Town Council (Cabildo)", True),
            ("El Congreso de la Unión", "The federal Congress", False),
            ("Cada dirección por su cuenta", "Each directorate on its own", False),
        ],
        topic="gobierno",
        why=(
            "El Ayuntamiento aprueba el presupuesto de egresos en sesión de Cabildo.",
            "The Town Council approves the spending budget in a council session.",
        ),
    ),
    _quiz_question(
        3,
        "¿Qué hace la Sindicatura municipal?",
        "What does the municipal Syndic's office do?",
        [
            (
                "Vigila el gasto y el patrimonio del municipio",
                "Oversees municipal spending and assets",
                True,
            ),
            ("Recoge la basura", "Collects garbage", False),
            ("Cobra el predial", "Collects property tax", False),
        ],
        topic="sindicatura",
        why=(
            "La Sindicatura vigila el uso del dinero y los bienes del municipio; no presta los "
            "servicios.",
            "The Sindicatura oversees the use of municipal money and property; it does not "
            "deliver services.",
        ),
    ),
    _quiz_question(
        4,
        "¿Qué área del municipio se encarga de parques y alumbrado?",
        "Which municipal area looks after parks and street lighting?",
        [
            ("Servicios Públicos Municipales", "Municipal Public Services", True),
            ("Seguridad Pública", "Public Security", False),
            ("El DIF", "DIF (family services)", False),
        ],
        topic="gobierno",
        why=(
            "Parques y alumbrado son servicios públicos municipales (artículo 115 de la "
            "Constitución).",
            "Parks and lighting are municipal public services (article 115 of the Constitution).",
        ),
    ),
    _quiz_question(
        5,
        "¿Qué es una licitación pública (LP)?",
        "What is a public tender (licitación pública, LP)?",
        [
            (
                "Un concurso abierto donde cualquier empresa que cumpla puede participar",
                "An open competition any qualifying company may enter",
                True,
            ),
            ("Invitar a tres empresas conocidas", "Inviting three known companies", False),
            ("Dar el contrato a una empresa sin concurso", "Awarding without competition", False),
        ],
        topic="compras",
        why=(
            "En la licitación pública la convocatoria es abierta: participa cualquier empresa "
            "que cumpla los requisitos.",
            "In a public tender the call is open: any company meeting the requirements may bid.",
        ),
    ),
    _quiz_question(
        6,
        "¿Qué es una invitación restringida (IR)?",
        "What is a restricted invitation (invitación restringida, IR)?",
        [
            (
                "Se invita a cuando menos tres proveedores a presentar propuestas",
                "At least three suppliers are invited to bid",
                True,
            ),
            ("Un concurso abierto a todos", "A competition open to all", False),
            ("Una compra sin contrato", "A purchase without a contract", False),
        ],
        topic="compras",
        why=(
            "En la invitación restringida se invita a cuando menos tres proveedores, no a todos.",
            "In a restricted invitation at least three suppliers are invited, not everyone.",
        ),
    ),
    _quiz_question(
        7,
        "¿Qué es una adjudicación directa (AD)?",
        "What is a direct award (adjudicación directa, AD)?",
        [
            (
                "Se asigna el contrato a un proveedor sin concurso, solo donde la ley lo permite",
                "The contract goes to one supplier without competition, only where the law allows",
                True,
            ),
            ("Un concurso abierto", "An open competition", False),
            ("Una donación al municipio", "A donation to the municipality", False),
        ],
        topic="compras",
        why=(
            "La adjudicación directa no tiene concurso y solo se permite en los casos que marca "
            "la ley.",
            "A direct award has no competition and is only allowed in the cases the law sets.",
        ),
    ),
    _quiz_question(
        8,
        "¿Cuál procedimiento debe ser la regla general para contratar?",
        "Which procedure should be the general rule for contracting?",
        [
            ("Licitación pública (LP)", "Public tender (LP)", True),
            ("Invitación restringida (IR)", "Restricted invitation (IR)", False),
            ("Adjudicación directa (AD)", "Direct award (AD)", False),
        ],
        topic="compras",
        why=(
            "La Constitución (artículo 134) hace de la licitación pública la regla; IR y AD son "
            "excepciones.",
            "The Constitution (article 134) makes the public tender the rule; IR and AD are "
            "exceptions.",
        ),
    ),
    _quiz_question(
        9,
        "¿Dónde se dice qué debe hacer la empresa y cada cuándo?",
        "Where does it say what the company must do, and how often?",
        [
            ("En el contrato y su anexo técnico", "In the contract and its technical annex", True),
            ("En el periódico", "In the newspaper", False),
            ("En ningún lado", "Nowhere", False),
        ],
        topic="contratos",
        why=(
            "Las obligaciones y su frecuencia están en el contrato y su anexo técnico.",
            "The obligations and how often they apply are in the contract and its technical annex.",
        ),
    ),
    _quiz_question(
        10,
        "Si la empresa no cumple el contrato, el municipio puede…",
        "If the company does not fulfil the contract, the municipality may…",
        [
            (
                "Aplicar penas convencionales o retener pagos",
                "Apply contractual penalties or withhold payments",
                True,
            ),
            ("Nada, ya firmó", "Nothing, it is signed", False),
            ("Pagarle más", "Pay it more", False),
        ],
        topic="contratos",
        why=(
            "El contrato prevé penas convencionales, retención de pagos y hasta la rescisión si "
            "no se cumple.",
            "The contract provides penalties, withheld payments and even termination for "
            "non-compliance.",
        ),
    ),
    _quiz_question(
        11,
        "¿Qué datos hacen útil un reporte? (elige todos los que apliquen)",
        "Which details make a report useful? (choose all that apply)",
        [
            ("La ubicación exacta", "The exact location", True),
            ("La fecha", "The date", True),
            ("Fotos del problema", "Photos of the problem", True),
            ("Tu opinión sobre los partidos", "Your opinion of the parties", False),
        ],
        topic="servicios",
        why=(
            "Ubicación, fecha y fotos permiten verificar la falla; las opiniones políticas no "
            "ayudan.",
            "Location, date and photos make the problem checkable; political opinions don't help.",
        ),
        multiple=True,
    ),
    _quiz_question(
        12,
        "¿Cómo reportas una falla con Guardianes?",
        "How do you report a problem with Guardianes?",
        [
            (
                "Llenando una tarjeta de vigilancia en este chat",
                "By filling in a surveillance card in this chat",
                True,
            ),
            ("Publicándolo solo en redes sociales", "Only by posting it on social media", False),
            ("No se puede reportar", "It can't be reported", False),
        ],
        topic="quejas",
        why=(
            "Las tarjetas de vigilancia de este chat llegan a la Sindicatura como evidencia.",
            "The surveillance cards in this chat reach the Sindicatura as evidence.",
        ),
    ),
    _quiz_question(
        13,
        "¿Dónde puedes consultar los contratos del municipio?",
        "Where can you look up the municipality's contracts?",
        [
            (
                "En el portal de transparencia y la Plataforma Nacional de Transparencia",
                "On the transparency portal and the National Transparency Platform",
                True,
            ),
            ("Solo pidiéndolos a la empresa", "Only by asking the company", False),
            ("Son secretos", "They are secret", False),
        ],
        topic="contratos",
        why=(
            "Las leyes de transparencia obligan a publicar los contratos en el portal y en la "
            "Plataforma Nacional de Transparencia.",
            "Transparency laws require contracts to be published on the portal and the National "
            "Transparency Platform.",
        ),
    ),
    _quiz_question(
        14,
        "¿Qué es la contraloría social?",
        "What is social comptrollership?",
        [
            (
                "Que la ciudadanía vigile que los servicios y recursos públicos se usen bien",
                "Citizens checking that public services and funds are used properly",
                True,
            ),
            ("Una oficina que cobra multas", "An office that issues fines", False),
            ("Un partido político", "A political party", False),
        ],
        topic="sindicatura",
        why=(
            "La contraloría social es la vigilancia ciudadana de los servicios y recursos "
            "públicos.",
            "Social comptrollership is citizens overseeing public services and funds.",
        ),
    ),
]

QUIZ: dict[str, Any] = {
    "file": "cuestionario_capacitacion.xlsx",
    "survey_columns": QUIZ_SURVEY_COLUMNS,
    "settings": {
        "form_id": "cuestionario_capacitacion",
        "version": "2026.11.2",
        "form_title": "Cuestionario de capacitación",
        "title_en": "Training quiz",
        "default_language": DEFAULT_LANGUAGE,
        "kind": "quiz",
        "service": None,
        "space_question": None,
    },
    "survey": [
        q(
            "note",
            "instrucciones",
            "Son 14 preguntas de opción múltiple. Elige la respuesta que te parezca correcta.",
            "There are 14 multiple-choice questions. Pick the answer you think is right.",
        ),
        *(row for row, _ in _QUIZ),
        q(
            "calculate",
            "respondidas",
            calculation=" + ".join(f"if(${{p{n:02d}}} != '', 1, 0)" for n in range(1, 15)),
        ),
    ],
    "choices": [choice for _, rows in _QUIZ for choice in rows],
}

FORMS: tuple[dict[str, Any], ...] = (PARKS, GARBAGE, LIGHTING, QUIZ)


def write_form(definition: dict[str, Any], folder: Path = FORMS_DIR) -> Path:
    """Write one definition as an .xlsx workbook."""
    # openpyxl is a pyxform dependency; imported here so the engine never loads it.
    from openpyxl import Workbook  # type: ignore[import-untyped]  # ships no type hints

    workbook = Workbook()
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    workbook.properties.creator = "guardianes"
    sheets = (
        ("survey", definition.get("survey_columns", SURVEY_COLUMNS), definition["survey"]),
        ("choices", CHOICE_COLUMNS, definition["choices"]),
        ("settings", SETTINGS_COLUMNS, [definition["settings"]]),
    )
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            sheet.append([row.get(column) or None for column in columns])
        sheet.freeze_panes = "A2"
    path = folder / str(definition["file"])
    workbook.save(path)
    return path


def main() -> None:
    """Rebuild every shipped form."""
    for definition in FORMS:
        print(write_form(definition))


if __name__ == "__main__":
    main()
