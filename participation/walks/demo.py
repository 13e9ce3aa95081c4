"""Demo marches exploratoires, in Frais Vallon and Malpassé Corot (Marseille).

- WALK_TITLE: a women-only walk after dark in Frais Vallon, three weeks ago, guided by the
  centre social: 14 walkers (anonymous profile), a route of six stops, twelve observations
  across the grid (eleven with photos drawn by the app, two still to check, one placed only by
  its address), three recommendations to the city, the landlord and the metropolis (one
  followed to done, one answered with a promised date, one overdue), the report published.
- FOLLOW_TITLE: its follow-up walk, two days ago, checking half of the points (better where
  the lamps were repaired, unchanged elsewhere), with two observations of its own.
- PLANNED_TITLE: a young people's walk by day in Malpassé Corot in ten days, recording open.

Built through the services, so the demo obeys the app's rules. Dates are relative to today.
Loading twice adds nothing (the walk is looked up by its title). Photos are drawn with Pillow
(simple scenes with a caption), deterministic, and go through `services.process_photos`.
"""
from __future__ import annotations

import functools
import io
import random
import unicodedata
from datetime import date, timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from ..core.content_i18n import set_translation
from ..core.territories import Category, Neighbourhood
from ..core.users import User
from ..extensions import db
from ..followup import services as followup
from ..followup.models import Institution, InstitutionKind, Status
from . import services
from .models import GroupType, LocationSource, Moderation, PointOutcome, TimeOfDay, Walk, WalkStatus

WALK_TITLE = "Marche exploratoire des femmes de Frais Vallon, à la nuit tombée"
FOLLOW_TITLE = "Marche de suivi à Frais Vallon : qu'est-ce qui a changé ?"
PLANNED_TITLE = "Marche exploratoire des jeunes de Malpassé Corot"
FACILITATOR = "animatrice@amp.demo"
FRAIS_VALLON = "QN01322M"
MALPASSE_COROT = "QN01323M"
#: Days before today.
WALKED_DAYS_AGO = 21
FOLLOW_DAYS_AGO = 2
PLANNED_IN_DAYS = 10

WALK_TITLE_AR = "المسيرة الاستكشافية لنساء فري فالون عند حلول الظلام"
FOLLOW_TITLE_AR = "مسيرة المتابعة في فري فالون: ما الذي تغيّر؟"
PLANNED_TITLE_AR = "المسيرة الاستكشافية لشباب مالباسي كورو"

DESCRIPTION = (
    "Une marche entre femmes, à la tombée de la nuit, pour regarder ensemble le chemin du centre social "
    "au métro : ce qui aide, ce qui gêne, ce qui fait peur. Ouverte à toutes les habitantes, "
    "sans inscription. Durée : environ une heure et demie, à petit pas."
)
SUMMARY = (
    "Nous étions quatorze, de 19 à 70 ans. Le trajet du centre social au métro se fait bien de jour, "
    "mais le soir plusieurs passages deviennent des endroits qu'on évite : le passage souterrain mal éclairé, "
    "l'escalier entre les bâtiments H et J, le parking derrière le bâtiment K. Beaucoup d'entre nous font un "
    "détour par l'avenue, plus long mais éclairé. Nous demandons en priorité la réparation de l'éclairage, "
    "un passage piéton devant l'école et un meilleur ramassage des poubelles. Le square des platanes montre ce "
    "qui marche : de la lumière, des bancs, des arbres et du monde."
)
SUMMARY_AR = (
    "كنا أربع عشرة امرأة، من 19 إلى 70 سنة. الطريق من المركز الاجتماعي إلى المترو سهل في النهار، "
    "لكن في المساء تصبح عدة أماكن نتجنبها: النفق الضعيف الإنارة، والدرج بين العمارتين H وJ، "
    "وموقف السيارات خلف العمارة K. نطالب أولاً بإصلاح الإنارة، وبممر للراجلين أمام المدرسة، "
    "وبجمع أفضل للنفايات."
)

#: (label, lat, lon): from the centre social, north-east to the metro, about 600 m.
ROUTE = [
    ("Centre social Frais Vallon", 43.32455, 5.40440),
    ("Passage souterrain sous la rocade", 43.32530, 5.40540),
    ("Escalier entre les bâtiments H et J", 43.32610, 5.40630),
    ("École élémentaire Frais Vallon", 43.32680, 5.40740),
    ("Square des platanes", 43.32760, 5.40850),
    ("Métro Frais Vallon", 43.32840, 5.40960),
]
ROUTE_AR = ["المركز الاجتماعي فري فالون", "النفق تحت الطريق الدائري", "الدرج بين العمارتين H وJ",
            "مدرسة فري فالون الابتدائية", "ساحة الدلب", "محطة مترو فري فالون"]

PLANNED_ROUTE = [
    ("Maison pour tous Corot", 43.33020, 5.41310),
    ("City stade de Malpassé", 43.33095, 5.41420),
    ("Arrêt de bus Corot", 43.33170, 5.41360),
    ("Parc de Malpassé", 43.33240, 5.41480),
]


def _obs(key, theme, rating, seen, *, quote="", at=None, source=LocationSource.gps, accuracy=None, stop=None,
         address="", photos=(), pending=False, hidden_photo=False, seen_ar="", quote_ar=""):
    return {"key": key, "theme": theme, "rating": rating, "seen": seen, "quote": quote, "at": at, "source": source,
            "accuracy": accuracy, "stop": stop, "address": address, "photos": photos, "pending": pending,
            "hidden_photo": hidden_photo, "seen_ar": seen_ar, "quote_ar": quote_ar}


#: Photo scenes: (scene, caption). Scenes are drawn by `_draw`.
OBSERVATIONS = [
    _obs("underpass", "lighting", 1,
         "Dans le passage souterrain, trois lampes sur cinq sont cassées. On ne voit pas qui arrive en face, "
         "et le sol est mouillé.",
         quote="Le soir je fais le détour par l'avenue, même si c'est dix minutes de plus.",
         at=(43.32528, 5.40546), accuracy=8,
         photos=[("underpass", "Le passage souterrain, deux lampes allumées sur cinq"),
                 ("lamp_broken", "Une lampe du passage, le verre cassé")],
         seen_ar="في النفق، ثلاثة مصابيح من خمسة مكسورة. لا نرى من يأتي من الجهة المقابلة.",
         quote_ar="في المساء أسلك طريق الشارع الكبير، حتى لو كان أطول بعشر دقائق."),
    _obs("stairs", "visibility", 1,
         "L'escalier entre les bâtiments H et J est étroit et sombre, avec un coude : du bas on ne voit pas "
         "le haut. Personne ne peut vous entendre depuis la rue.",
         quote="Je ne le prends jamais seule après sept heures.",
         at=(43.32612, 5.40626), accuracy=12,
         photos=[("stairs", "L'escalier entre les bâtiments H et J, sans lumière")],
         seen_ar="الدرج بين العمارتين H وJ ضيق ومظلم، ولا نرى أعلاه من الأسفل.",
         quote_ar="لا أصعده وحدي أبداً بعد السابعة."),
    _obs("bins", "cleanliness", 2,
         "Les conteneurs au pied du bâtiment J débordent ; des sacs sont posés à côté depuis plusieurs jours "
         "et les goélands les éventrent.",
         at=(43.32640, 5.40665), source=LocationSource.map,
         photos=[("bins", "Conteneurs pleins et sacs posés au sol au pied du bâtiment J"),
                 ("bins", "Les sacs éventrés le long du trottoir")],
         hidden_photo=True),
    _obs("crossing", "accessibility", 1,
         "Pas de passage piéton devant l'école : les parents et les enfants traversent entre les voitures "
         "garées, dans un virage.",
         quote="Avec la poussette, je traverse en courant.",
         stop=3, source=LocationSource.waypoint,
         photos=[("crossing", "La rue devant l'école, sans passage piéton")],
         seen_ar="لا يوجد ممر للراجلين أمام المدرسة: يعبر الآباء والأطفال بين السيارات المركونة.",
         quote_ar="مع عربة الطفل، أعبر وأنا أجري."),
    _obs("bench", "amenities", 4,
         "Le banc à l'ombre près de l'arrêt de bus : les voisines s'y retrouvent l'après-midi et le soir "
         "en été. Il en faudrait d'autres sur le trajet.",
         quote="C'est notre banc, on s'y assoit tous les jours.",
         at=(43.32815, 5.40925), accuracy=6,
         photos=[("bench", "Le banc sous l'arbre, près de l'arrêt de bus")]),
    _obs("square", "greenery", 5,
         "Le square des platanes est agréable : ombragé, éclairé, propre. Des familles y restent tard le soir, "
         "on s'y sent bien.",
         quote="Ici on se sent en sécurité, il y a toujours du monde.",
         at=(43.32762, 5.40846), source=LocationSource.map,
         photos=[("square", "Le square des platanes, éclairé, avec des familles"),
                 ("trees", "Les grands platanes du square")],
         seen_ar="ساحة الدلب جميلة: ظليلة ومضاءة ونظيفة، وتبقى فيها العائلات إلى وقت متأخر."),
    _obs("signs", "signage", 2,
         "Aucun panneau n'indique le centre social depuis le métro, et les numéros des bâtiments sont effacés : "
         "les visiteurs et les secours se perdent.",
         address="Sortie du métro Frais Vallon, boulevard Gustave Ganay", source=LocationSource.address,
         photos=[("signs", "Un poteau sans panneau à la sortie du métro")]),
    _obs("parking", "safety", 2,
         "Le parking derrière le bâtiment K est désert le soir ; des voitures y stationnent longtemps, "
         "moteur allumé. On presse le pas.",
         quote="On a peur, alors on marche à deux.",
         at=(43.32700, 5.40690), accuracy=15,
         photos=[("parking", "Le parking derrière le bâtiment K, la nuit")], pending=True),
    _obs("stadium", "uses", 3,
         "Le city stade n'est occupé que par des garçons ; les filles restent assises sur les bancs autour.",
         quote="Il faudrait des créneaux pour les filles.",
         at=(43.32725, 5.40790), accuracy=10,
         photos=[("stadium", "Le city stade, grillage et bancs autour")]),
    _obs("school_path", "lighting", 2,
         "Sur le chemin qui longe l'école, un lampadaire sur deux est éteint ; l'hiver, les enfants rentrent "
         "du soutien scolaire dans le noir.",
         at=(43.32668, 5.40718), accuracy=9,
         photos=[("lamp_broken", "Le lampadaire éteint du chemin de l'école")]),
    _obs("bulky", "cleanliness", 3,
         "Des encombrants près du local poubelles : un matelas, deux chaises, un carton de vaisselle.",
         at=(43.32585, 5.40600), source=LocationSource.map, pending=True),
    _obs("pavement", "accessibility", 2,
         "Le trottoir est encombré par les voitures garées : impossible de passer en fauteuil ou avec une "
         "poussette, on marche sur la chaussée.",
         at=(43.32490, 5.40480), accuracy=7,
         photos=[("pavement", "Des voitures garées sur le trottoir")]),
]

#: (title, body, institution kind, observation keys, défi code, path)
RECOMMENDATIONS = [
    ("Réparer l'éclairage du passage souterrain et du chemin de l'école",
     "Remplacer les lampes cassées du passage souterrain sous la rocade, rallumer les lampadaires du chemin "
     "qui longe l'école et vérifier l'éclairage chaque mois.",
     InstitutionKind.city, ["underpass", "school_path"], "D3", "done"),
    ("Sécuriser l'escalier entre les bâtiments H et J et ramasser les déchets plus souvent",
     "Éclairer l'escalier (détecteur de présence), poser un miroir au coude, et passer deux fois par semaine "
     "pour vider les conteneurs du bâtiment J.",
     InstitutionKind.landlord, ["stairs", "bins"], "D2", "answered"),
    ("Créer un passage piéton devant l'école et libérer le trottoir",
     "Tracer un passage piéton surélevé devant l'école élémentaire et poser des potelets pour empêcher le "
     "stationnement sur le trottoir du boulevard.",
     InstitutionKind.metropolis, ["crossing", "pavement"], "D5", "overdue"),
]
DONE_ANSWER = ("La Ville a remplacé les cinq lampes du passage souterrain et réparé les lampadaires du chemin "
               "de l'école. Un contrôle mensuel de l'éclairage est inscrit au marché d'entretien.")
LANDLORD_ANSWER = ("Le bailleur posera un éclairage à détection dans l'escalier et un miroir au coude, et passe "
                   "à deux ramassages par semaine au bâtiment J.")

#: Follow-up walk: (original observation key, outcome, note).
CHECKS = [
    ("underpass", PointOutcome.improved, "Les cinq lampes fonctionnent ; on voit jusqu'au bout du passage."),
    ("school_path", PointOutcome.improved, "Tous les lampadaires du chemin sont allumés."),
    ("stairs", PointOutcome.unchanged, "Toujours aucune lumière dans l'escalier."),
    ("bins", PointOutcome.unchanged, "Les conteneurs débordaient encore le jour de la marche."),
    ("crossing", PointOutcome.unchanged, "Pas de passage piéton ; pas de réponse de la Métropole."),
    ("pavement", PointOutcome.unchanged, "Les voitures sont toujours garées sur le trottoir."),
]


# --- pictures --------------------------------------------------------------------------

W, H = 640, 480


@functools.lru_cache(maxsize=None)
def _font(size: int):
    """DejaVu Sans when the system has it (accents), else Pillow's own font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), True
    except OSError:
        return ImageFont.load_default(size=size), False


def _text(d, xy, text: str, size: int, fill) -> None:
    font, full = _font(size)
    if not full:  # Pillow's own font has no accents: write "ecole" rather than boxes
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    d.text(xy, text, fill=fill, font=font)


def _building(d, x, y, w, h, rng, night=True, colour=(188, 170, 150)):
    d.rectangle([x, y, x + w, y + h], fill=colour, outline=(90, 80, 70))
    for wy in range(y + 14, y + h - 20, 34):
        for wx in range(x + 12, x + w - 20, 30):
            lit = night and rng.random() < 0.45
            d.rectangle([wx, wy, wx + 16, wy + 20], fill=(250, 214, 110) if lit else (70, 80, 95))


def _lamp(d, x, ground, on=True, broken=False):
    d.rectangle([x - 3, ground - 150, x + 3, ground], fill=(60, 60, 60))
    d.line([x, ground - 150, x + 24, ground - 160], fill=(60, 60, 60), width=5)
    if on and not broken:
        d.ellipse([x + 8, ground - 170, x + 40, ground - 146], fill=(255, 236, 150))
        d.polygon([(x + 24, ground - 150), (x - 30, ground), (x + 80, ground)], fill=(95, 90, 70))
    else:
        d.ellipse([x + 8, ground - 170, x + 40, ground - 146], fill=(80, 80, 80), outline=(40, 40, 40))
        if broken:
            d.line([x + 12, ground - 166, x + 36, ground - 150], fill=(20, 20, 20), width=3)
            d.line([x + 36, ground - 166, x + 12, ground - 150], fill=(20, 20, 20), width=3)


def _tree(d, x, ground, size=60):
    d.rectangle([x - 6, ground - size, x + 6, ground], fill=(110, 78, 50))
    d.ellipse([x - size // 1.4, ground - size * 2.1, x + size // 1.4, ground - size * 0.8], fill=(58, 125, 62))


def _person(d, x, ground, colour):
    d.ellipse([x - 8, ground - 62, x + 8, ground - 46], fill=(150, 110, 80))
    d.rectangle([x - 10, ground - 46, x + 10, ground - 14], fill=colour)
    d.rectangle([x - 9, ground - 14, x - 2, ground], fill=(40, 40, 60))
    d.rectangle([x + 2, ground - 14, x + 9, ground], fill=(40, 40, 60))


def _car(d, x, y, colour):
    d.rounded_rectangle([x, y, x + 130, y + 40], radius=10, fill=colour)
    d.rounded_rectangle([x + 25, y - 25, x + 100, y + 5], radius=8, fill=colour)
    d.rectangle([x + 35, y - 18, x + 90, y], fill=(160, 190, 210))
    for wx in (x + 28, x + 102):
        d.ellipse([wx - 12, y + 28, wx + 12, y + 52], fill=(30, 30, 30))


def _bench(d, x, ground):
    d.rectangle([x, ground - 40, x + 110, ground - 32], fill=(140, 95, 55))
    d.rectangle([x, ground - 62, x + 110, ground - 54], fill=(140, 95, 55))
    for lx in (x + 8, x + 96):
        d.rectangle([lx, ground - 40, lx + 6, ground], fill=(70, 70, 70))


def _draw(scene: str, caption: str, seed: int) -> bytes:
    """A simple drawn scene with its caption, as PNG bytes."""
    rng = random.Random(seed)
    night = scene not in ("bench", "trees", "stadium", "crossing", "signs", "pavement", "bins")
    sky = (22, 30, 58) if night else (150, 200, 235)
    im = Image.new("RGB", (W, H), sky)
    d = ImageDraw.Draw(im)
    ground = 380
    d.rectangle([0, ground, W, H], fill=(70, 70, 74) if night else (160, 156, 150))
    if scene in ("underpass", "lamp_ok"):
        d.rectangle([0, 0, W, 120], fill=(110, 110, 110))
        d.rectangle([0, 120, W, ground], fill=(45, 45, 50))
        d.polygon([(120, ground), (520, ground), (420, 180), (220, 180)], fill=(20, 20, 24))
        for i, x in enumerate((140, 230, 320, 410, 500)):
            on = scene == "lamp_ok" or i in (1, 3)
            d.ellipse([x - 14, 128, x + 14, 146], fill=(255, 236, 150) if on else (60, 60, 60))
    elif scene == "lamp_broken":
        _building(d, 380, 150, 200, 230, rng)
        _lamp(d, 150, ground, on=False, broken=True)
        _lamp(d, 330, ground, on=True)
    elif scene == "stairs":
        _building(d, 0, 60, 230, 320, rng)
        _building(d, 410, 60, 230, 320, rng)
        for i in range(9):
            y = ground - i * 28
            d.rectangle([230 + i * 6, y - 28, 410 - i * 6, y], fill=(52 + i * 2, 52 + i * 2, 58), outline=(30, 30, 34))
    elif scene == "bins":
        _building(d, 60, 90, 520, 290, rng, night=False)
        for i, x in enumerate((120, 250, 380)):
            d.rounded_rectangle([x, 280, x + 100, ground], radius=6, fill=(40, 110, 60) if i != 1 else (230, 190, 40))
            d.ellipse([x + 10, 258, x + 90, 296], fill=(30, 30, 30))
        for x in (220, 350, 480, 500):
            d.ellipse([x, 350, x + 46, ground + 8], fill=(20, 20, 20))
    elif scene == "crossing":
        _building(d, 380, 120, 240, 260, rng, night=False, colour=(230, 200, 160))
        d.rectangle([405, 96, 545, 136], fill=(255, 255, 255), outline=(90, 40, 40))
        _text(d, (425, 100), "ÉCOLE", 28, (90, 40, 40))
        _car(d, 30, 330, (180, 40, 40))
        _car(d, 200, 330, (40, 80, 160))
        _person(d, 175, ground + 40, (200, 60, 120))
    elif scene == "bench":
        _tree(d, 200, ground, 80)
        _bench(d, 150, ground)
        d.rectangle([480, ground - 170, 488, ground], fill=(60, 60, 60))
        d.rectangle([450, ground - 200, 520, ground - 160], fill=(30, 110, 170))
        _text(d, (462, ground - 192), "BUS", 22, (255, 255, 255))
    elif scene == "square":
        for x in (90, 300, 520):
            _tree(d, x, ground - 10, 70)
        _lamp(d, 200, ground, on=True)
        _lamp(d, 420, ground, on=True)
        _bench(d, 240, ground)
        for x, c in ((110, (200, 60, 120)), (140, (60, 120, 200)), (470, (220, 150, 40))):
            _person(d, x, ground + 20, c)
    elif scene == "trees":
        for x in (80, 230, 400, 560):
            _tree(d, x, ground, 90 + rng.randint(-10, 10))
    elif scene == "signs":
        _building(d, 300, 100, 320, 280, rng, night=False, colour=(210, 200, 185))
        d.rectangle([120, ground - 220, 128, ground], fill=(70, 70, 70))
        d.rectangle([90, ground - 230, 158, ground - 200], outline=(70, 70, 70), width=3)
        d.rectangle([20, 250, 90, ground], fill=(200, 40, 40))
        _text(d, (36, 262), "M", 40, (255, 255, 255))
    elif scene == "parking":
        _building(d, 380, 80, 260, 300, rng)
        _car(d, 40, 340, (90, 90, 100))
        _car(d, 210, 340, (60, 60, 70))
        _lamp(d, 30, ground, on=False)
    elif scene == "stadium":
        d.rectangle([60, 200, 580, ground], fill=(60, 140, 80))
        for x in range(60, 581, 26):
            d.line([x, 160, x, ground], fill=(120, 120, 120), width=2)
        d.line([60, 160, 580, 160], fill=(120, 120, 120), width=3)
        for x in (150, 260, 420):
            _person(d, x, ground - 10, (40, 70, 180))
        _bench(d, 480, ground + 60)
    elif scene == "pavement":
        d.rectangle([0, 330, W, ground], fill=(190, 185, 175))
        _car(d, 60, 310, (200, 200, 210))
        _car(d, 330, 310, (120, 30, 30))
        _building(d, 0, 40, W, 270, rng, night=False, colour=(220, 205, 180))
    # the caption, on a band at the bottom
    d.rectangle([0, H - 62, W, H], fill=(255, 255, 255))
    _text(d, (16, H - 48), caption[:58], 19, (20, 20, 20))
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _photos(specs, seed: int):
    pictures = services.process_photos([_draw(scene, caption, seed * 10 + i) for i, (scene, caption)
                                        in enumerate(specs)])
    return [(p, caption) for p, (_scene, caption) in zip(pictures, specs, strict=True)]


# --- building the walks ----------------------------------------------------------------


#: The social landlord of Frais Vallon (the demo table de quartier writes to it too).
LANDLORD = "13 Habitat"


def _institution(walk, kind: InstitutionKind) -> Institution:
    """The walk's city hall, the landlord of its buildings, or the metropolis (the contract's
    usual addressees, added when missing)."""
    contract = walk.contract
    followup.ensure_default_institutions(contract)
    query = sa.select(Institution).where(Institution.contract_id == contract.id, Institution.kind == kind,
                                         Institution.active)
    if kind is InstitutionKind.city:
        query = query.where(Institution.name.contains(walk.commune.name))
    elif kind is InstitutionKind.landlord:
        found = db.session.scalar(query.where(sa.func.lower(Institution.name) == LANDLORD.lower()))
        return found or followup.add_institution(contract, LANDLORD, kind, 30)
    return db.session.scalar(query.order_by(Institution.name).limit(1))


def _route(walk, route) -> list:
    return [services.add_waypoint(walk, label, lat, lon) for label, lat, lon in route]


def _record(walk, spec, n: int, stops, themes, user) -> object:
    at = spec["at"]
    stop = stops[spec["stop"]] if spec["stop"] is not None else None
    data = services.ObservationInput(
        client_id=f"demo-{walk.id}-{spec['key']}", theme_id=themes[spec["theme"]].id, rating=spec["rating"],
        seen=spec["seen"], quote=spec["quote"], lat=at[0] if at else None, lon=at[1] if at else None,
        accuracy_m=spec["accuracy"], location_source=spec["source"], address=spec["address"],
        waypoint_id=stop.id if stop else None, locale="fr",
    )
    obs, _created = services.record_observation(walk, data, _photos(spec["photos"], seed=n), user=user)
    if spec["seen_ar"]:
        set_translation(obs, "seen", "ar", spec["seen_ar"])
    if spec["quote_ar"]:
        set_translation(obs, "quote", "ar", spec["quote_ar"])
    if not spec["pending"]:
        services.moderate_observation(obs, Moderation.published)
        for i, photo in enumerate(obs.photos):
            hidden = spec["hidden_photo"] and i == len(obs.photos) - 1
            services.moderate_photo(photo, Moderation.hidden if hidden else Moderation.published)
    return obs


def _walk(hood, claire, today):
    walk = services.create_walk(
        hood, WALK_TITLE, today - timedelta(days=WALKED_DAYS_AGO), locale="fr", user=claire,
        description=DESCRIPTION, starts_at="18:30", time_of_day=TimeOfDay.night, group_type=GroupType.women,
        meeting_point="Devant le centre social Frais Vallon, 53 boulevard Gustave Ganay, 13013 Marseille",
        guides="Centre social Frais Vallon",
    )
    if claire is not None and claire not in walk.facilitators:
        walk.facilitators.append(claire)
    set_translation(walk, "title", "ar", WALK_TITLE_AR)
    stops = _route(walk, ROUTE)
    for point, label in zip(stops, ROUTE_AR, strict=True):
        set_translation(point, "label", "ar", label)
    walk.route_line = [[lat, lon] for _l, lat, lon in ROUTE]
    services.set_profile(walk, 14, {
        ("age_band", "18_24"): 2, ("age_band", "25_39"): 5, ("age_band", "40_59"): 4, ("age_band", "60_74"): 3,
        ("gender", "woman"): 14,
    })
    themes = {t.code: t for t in walk.themes}
    observations = {spec["key"]: _record(walk, spec, n, stops, themes, claire)
                    for n, spec in enumerate(OBSERVATIONS, 1)}
    services.set_status(walk, WalkStatus.walked)

    categories = {c.code: c.id for c in db.session.scalars(
        sa.select(Category).where(Category.contract_id == walk.contract_id))}
    sent = today - timedelta(days=WALKED_DAYS_AGO - 3)
    for title, body, kind, keys, defi, path in RECOMMENDATIONS:
        link = services.add_recommendation(
            walk, title, body=body, institution=_institution(walk, kind),
            due_on=today + timedelta(days=90), observation_ids=[observations[k].id for k in keys],
            category_id=categories.get(defi), user=claire)
        item = link.followup
        if path == "overdue":
            # A two-week answer was agreed on the walk; nothing has come.
            followup.move(item, Status.sent, on=sent, answer_due_on=sent + timedelta(days=14), user=claire)
            continue
        followup.move(item, Status.sent, on=sent, user=claire)
        if path == "done":
            followup.move(item, Status.answered, on=sent + timedelta(days=4), answer=DONE_ANSWER,
                          action_due_on=sent + timedelta(days=20), user=claire)
            followup.move(item, Status.in_progress, on=sent + timedelta(days=6),
                          note="Commande des lampes passée par le service de l'éclairage public.", user=claire)
            followup.move(item, Status.done, on=today - timedelta(days=FOLLOW_DAYS_AGO + 3),
                          note="Lampes remplacées, contrôle fait avec le centre social.", user=claire)
        else:
            followup.move(item, Status.answered, on=sent + timedelta(days=9), answer=LANDLORD_ANSWER,
                          action_due_on=today + timedelta(days=45), user=claire)

    walk.summary = SUMMARY
    set_translation(walk, "summary", "ar", SUMMARY_AR)
    services.set_status(walk, WalkStatus.published, today=today - timedelta(days=WALKED_DAYS_AGO - 5))
    return walk, observations


def _follow_up(walk, observations, claire, today):
    follow = services.create_follow_up(walk, today - timedelta(days=FOLLOW_DAYS_AGO), FOLLOW_TITLE, user=claire)
    set_translation(follow, "title", "ar", FOLLOW_TITLE_AR)
    follow.description = ("Trois semaines après la première marche, le même trajet pour voir ce qui a changé, "
                          "point par point.")
    follow.guides = "Centre social Frais Vallon"
    follow.starts_at = "18:30"
    services.set_profile(follow, 9, {("gender", "woman"): 9})
    themes = {t.code: t for t in follow.themes}
    stops = follow.waypoints
    lamps = _record(follow, _obs(
        "underpass-after", "lighting", 4,
        "Les lampes du passage souterrain ont été remplacées : on voit jusqu'au bout, même la nuit.",
        quote="Maintenant je peux reprendre le passage.", at=(43.32529, 5.40544), accuracy=9,
        photos=[("lamp_ok", "Le passage souterrain éclairé")],
        seen_ar="تم تغيير مصابيح النفق: نرى حتى آخره، حتى في الليل."), 21, stops, themes, claire)
    bins = _record(follow, _obs(
        "bins-after", "cleanliness", 2,
        "Les conteneurs du bâtiment J débordent encore ; le deuxième ramassage n'a pas commencé.",
        at=(43.32641, 5.40663), source=LocationSource.map,
        photos=[("bins", "Les conteneurs du bâtiment J, toujours pleins")]), 22, stops, themes, claire)
    new = {"underpass": lamps, "bins": bins}
    for key, outcome, note in CHECKS:
        services.check_point(follow, observations[key], outcome, note, new_observation=new.get(key))
    follow.summary = ("L'éclairage est réparé : le passage souterrain et le chemin de l'école sont de nouveau "
                      "utilisés le soir. L'escalier, les poubelles et le passage piéton attendent toujours.")
    services.set_status(follow, WalkStatus.walked)
    follow.recording_open = False
    return follow


def _planned(corot, claire, today):
    walk = services.create_walk(
        corot, PLANNED_TITLE, today + timedelta(days=PLANNED_IN_DAYS), locale="fr", user=claire,
        description="Les jeunes de 14 à 20 ans font le tour du quartier avec les animateurs de la maison pour tous : "
                    "où on se retrouve, où on ne va pas, ce qui manque. Les observations serviront au projet "
                    "de réaménagement du parc.",
        starts_at="14:00", time_of_day=TimeOfDay.day, group_type=GroupType.youth,
        meeting_point="Devant la maison pour tous Corot", guides="Maison pour tous Corot",
    )
    if claire is not None and claire not in walk.facilitators:
        walk.facilitators.append(claire)
    set_translation(walk, "title", "ar", PLANNED_TITLE_AR)
    _route(walk, PLANNED_ROUTE)
    walk.recording_open = True
    return walk


def _find(contract_id: int, title: str) -> Walk | None:
    return db.session.scalar(sa.select(Walk).filter_by(contract_id=contract_id, title=title).limit(1))


def load(contracts) -> None:
    amp = contracts["amp"]
    if _find(amp.id, WALK_TITLE) is not None:
        return
    today = date.today()
    hoods = {n.qpv_code: n for n in db.session.scalars(
        sa.select(Neighbourhood).where(Neighbourhood.qpv_code.in_([FRAIS_VALLON, MALPASSE_COROT])))}
    claire = db.session.scalar(sa.select(User).filter_by(email=FACILITATOR))
    walk, observations = _walk(hoods[FRAIS_VALLON], claire, today)
    _follow_up(walk, observations, claire, today)
    _planned(hoods[MALPASSE_COROT], claire, today)
    db.session.flush()


def notes() -> list[str]:
    walks = {w.title: w for w in db.session.scalars(
        sa.select(Walk).where(Walk.title.in_([WALK_TITLE, FOLLOW_TITLE, PLANNED_TITLE])))}
    if WALK_TITLE not in walks:
        return []
    lines = [f"Marche exploratoire \"{WALK_TITLE}\": public page /w/{walks[WALK_TITLE].id}, "
             f"report /w/{walks[WALK_TITLE].id}/report, run by {FACILITATOR}."]
    if FOLLOW_TITLE in walks:
        lines.append(f"Its follow-up walk: /w/{walks[FOLLOW_TITLE].id}.")
    if PLANNED_TITLE in walks:
        planned = walks[PLANNED_TITLE]
        lines.append(f"Planned walk \"{PLANNED_TITLE}\": participants record at /w/{planned.id}/record/{planned.record_key}.")
    return lines
