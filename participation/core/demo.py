"""Demo data: the Aix-Marseille-Provence contract (seed 003) and a smaller Narbonne one.

Names of communes and QPV are real (DOMAIN.md, seed 003); INSEE codes are real. QPV codes
follow the official QNdddnnX pattern but are illustrative, and populations are rounded
illustrations: check both against the décret n° 2023-1314 list before any real use.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from .content_i18n import set_translation
from .territories import Category, CategoryKind, Commune, Contract, Neighbourhood
from .users import Role, RoleGrant, User

DEMO_PASSWORD = "demo-participation-2026"

AMP_COMMUNES = {
    ("13055", "Marseille"): [
        ("QN01306M", "La Cayolle", 3100),
        ("QN01319M", "Air Bel", 5200),
        ("QN01322M", "Frais Vallon", 6300),
        ("QN01323M", "Malpassé Corot", 7800),
        ("QN01340M", "La Castellane La Bricarde", 9100),
    ],
    ("13001", "Aix-en-Provence"): [
        ("QN01301M", "Beisson", 2400),
        ("QN01302M", "Encagnane", 5300),
        ("QN01303M", "Corsy", 1900),
        ("QN01304M", "Jas de Bouffan", 6100),
    ],
    ("13063", "Miramas"): [("QN01350M", "La Carraire", 4800), ("QN01351M", "La Maille", 3900)],
    ("13103", "Salon-de-Provence"): [("QN01360M", "Les Canourgues", 4500), ("QN01361M", "La Monaque", 2700)],
    ("13117", "Vitrolles"): [("QN01370M", "La Frescoule", 2600)],
}

AMP_CHALLENGES = [
    "Le défi de la transition écologique",
    "Le défi du logement",
    "Le défi de la tranquillité publique",
    "Le défi de la lutte contre les précarités",
    "Le défi de la proximité",
    "Le défi de l'attractivité",
    "Le défi de la jeunesse",
    "Le défi de la lutte contre les discriminations",
    "Le défi de la participation citoyenne",
    "Le défi de la coopération euro-méditerranéenne",
]

AMP_ORIENTATIONS = [
    ("Grandir et s'épanouir", ["Scolarité & apprentissage", "Parentalité / petite enfance", "Sports et loisirs", "Culture et arts"]),
    ("Habiter son logement, son quartier, sa ville", ["Espaces publics", "Logement", "Gestion urbaine et sociale de proximité", "Équipements"]),
    ("Travailler et entreprendre", ["Activité économique et ESS", "Entrepreneuriat", "Accompagnement", "Inclusion et lutte contre les discriminations"]),
    ("Accéder à ses droits et s'émanciper", ["Accès aux services publics et aux droits", "Inclusion numérique", "Participation citoyenne et démocratique", "Promotion de l'égalité"]),
    ("Préserver sa santé et sa qualité de vie", ["Santé mentale", "Accès à la prévention et aux soins", "Santé des enfants et des jeunes", "Environnement"]),
]

#: A few translations, to show the content-translation mechanism at work.
AMP_TRANSLATIONS = {
    "D9": {"ar": "تحدي المشاركة المواطنية", "en": "The challenge of citizen participation"},
    "D2": {"ar": "تحدي السكن", "en": "The housing challenge"},
    "O1": {"ar": "النمو والازدهار", "en": "Growing up and thriving"},
}

NARBONNE_COMMUNES = {
    ("11262", "Narbonne"): [
        ("QN01101M", "Razimbaud", 3300),
        ("QN01102M", "Saint-Jean Saint-Pierre", 4200),
        ("QN01103M", "Centre-ville", 2900),
    ],
}

NARBONNE_AXES = [
    ("Emploi et développement économique", ["Insertion professionnelle", "Création d'activité"]),
    ("Cohésion sociale", ["Éducation", "Santé", "Accès aux droits"]),
    ("Cadre de vie et renouvellement urbain", ["Habitat", "Espaces publics"]),
    ("Transitions et émancipation", ["Transition écologique", "Citoyenneté"]),
]

#: (email, name, role, scope path): scope path is () for the contract, (insee,) or (insee, qpv).
DEMO_STAFF = [
    ("admin@amp.demo", "Amina Benali", Role.admin, "amp", ()),
    ("animatrice@amp.demo", "Claire Martin", Role.facilitator, "amp", ("13055",)),
    ("mediateur@amp.demo", "Karim Haddad", Role.mediator, "amp", ("13055", "QN01322M")),
    ("comite@amp.demo", "Fatou Diallo", Role.committee_member, "amp", ("13055", "QN01323M")),
    ("evaluation@amp.demo", "Jean Rossi", Role.evaluator, "amp", ()),
    ("admin@narbonne.demo", "Sophie Garcia", Role.admin, "narbonne", ()),
]


#: Each participation mechanism adds its own demo data: fn(contracts: dict[str, Contract]).
_loaders: list = []


_notes: list = []


def register_loader(loader, notes=None) -> None:
    """`notes()` returns lines that `flask demo-data` prints (e.g. demo voting codes)."""
    if loader not in _loaders:
        _loaders.append(loader)
    if notes is not None and notes not in _notes:
        _notes.append(notes)


def demo_notes() -> list[str]:
    return [line for notes in _notes for line in notes()]


def _get_or_create(model, lookup: dict, **values):
    obj = db.session.scalar(sa.select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def _territories(contract: Contract, communes: dict) -> None:
    for (insee, name), qpvs in communes.items():
        commune = _get_or_create(Commune, {"contract_id": contract.id, "insee_code": insee}, name=name)
        for code, qname, population in qpvs:
            _get_or_create(Neighbourhood, {"qpv_code": code}, commune_id=commune.id, name=qname, population=population)


def _category(contract, code, kind, name, parent=None, position=0) -> Category:
    return _get_or_create(
        Category,
        {"contract_id": contract.id, "code": code},
        kind=kind,
        name=name,
        parent_id=parent.id if parent else None,
        position=position,
        original_locale="fr",
    )


def load() -> dict[str, int]:
    """Create whatever is missing; running it twice changes nothing."""
    amp = _get_or_create(
        Contract,
        {"slug": "aix-marseille-provence"},
        name="Contrat de ville Aix-Marseille-Provence",
        region="Provence-Alpes-Côte d'Azur",
        period_start=2024,
        period_end=2030,
    )
    narbonne = _get_or_create(
        Contract,
        {"slug": "grand-narbonne"},
        name="Contrat de ville du Grand Narbonne",
        region="Occitanie",
        period_start=2024,
        period_end=2030,
    )
    _territories(amp, AMP_COMMUNES)
    _territories(narbonne, NARBONNE_COMMUNES)

    for i, name in enumerate(AMP_CHALLENGES, 1):
        _category(amp, f"D{i}", CategoryKind.challenge, name, position=i)
    for i, (name, subs) in enumerate(AMP_ORIENTATIONS, 1):
        parent = _category(amp, f"O{i}", CategoryKind.orientation, name, position=i)
        for j, sub in enumerate(subs, 1):
            _category(amp, f"O{i}.{j}", CategoryKind.subtheme, sub, parent, j)
    for i, (name, subs) in enumerate(NARBONNE_AXES, 1):
        parent = _category(narbonne, f"A{i}", CategoryKind.challenge, name, position=i)
        for j, sub in enumerate(subs, 1):
            _category(narbonne, f"A{i}.{j}", CategoryKind.subtheme, sub, parent, j)
    for code, texts in AMP_TRANSLATIONS.items():
        category = db.session.scalar(sa.select(Category).filter_by(contract_id=amp.id, code=code))
        for lang, text in texts.items():
            set_translation(category, "name", lang, text)

    contracts = {"amp": amp, "narbonne": narbonne}
    for email, name, role, key, path in DEMO_STAFF:
        user = db.session.scalar(sa.select(User).filter_by(email=email))
        if user is None:
            user = User(email=email, name=name)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
        contract = contracts[key]
        commune = neighbourhood = None
        if path:
            commune = db.session.scalar(sa.select(Commune).filter_by(contract_id=contract.id, insee_code=path[0]))
        if len(path) > 1:
            neighbourhood = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=path[1]))
        scope = (neighbourhood or commune or contract).scope
        _get_or_create(
            RoleGrant,
            {"user_id": user.id, "role": role, "scope_key": RoleGrant.key_for(scope)},
            contract_id=scope.contract_id,
            commune_id=scope.commune_id,
            neighbourhood_id=scope.neighbourhood_id,
        )
    _demo_links(amp)
    for loader in _loaders:
        loader(contracts)
    db.session.flush()
    return {
        "contracts": db.session.scalar(sa.select(sa.func.count(Contract.id))),
        "neighbourhoods": db.session.scalar(sa.select(sa.func.count(Neighbourhood.id))),
        "staff": db.session.scalar(sa.select(sa.func.count(User.id))),
    }


def _demo_links(amp: Contract) -> None:
    from ..links.models import ShortLink

    wanted = [
        ("FRVAX26", "/q/QN01322M", "Frais Vallon : participez !", "QN01322M"),
        ("AMPCV26", "/c/aix-marseille-provence", "Contrat de ville Aix-Marseille-Provence", None),
    ]
    for code, path, title, qpv in wanted:
        if db.session.scalar(sa.select(ShortLink).filter_by(code=code)):
            continue
        n = db.session.scalar(sa.select(Neighbourhood).filter_by(qpv_code=qpv)) if qpv else None
        link = ShortLink(
            code=code,
            target_path=path,
            title=title,
            contract_id=amp.id,
            commune_id=n.commune_id if n else None,
            neighbourhood_id=n.id if n else None,
            original_locale="fr",
        )
        db.session.add(link)
        db.session.flush()
        if qpv:
            set_translation(link, "title", "ar", "فري فالون: شاركوا!")
            set_translation(link, "title", "en", "Frais Vallon: have your say!")
