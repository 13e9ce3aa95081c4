"""Who the access matrix logs in as (shared with the feature case modules)."""

PASSWORD = "a-long-test-password"

# Users: anon; root (platform admin); amp_admin (contract); fac (facilitator, Marseille);
# med (mediator, Frais Vallon); com (committee, Malpassé Corot); eva (evaluator, contract);
# nar_admin (admin of the other contract); nogrant (an account with no role).
USERS = ["anon", "root", "amp_admin", "fac", "med", "com", "eva", "nar_admin", "nogrant"]
EMAILS = {
    "amp_admin": "admin@amp.demo",
    "fac": "animatrice@amp.demo",
    "med": "mediateur@amp.demo",
    "com": "comite@amp.demo",
    "eva": "evaluation@amp.demo",
    "nar_admin": "admin@narbonne.demo",
    "root": "root@platform.test",
    "nogrant": "nobody@amp.test",
}
EVERYONE = set(USERS)
STAFF = EVERYONE - {"anon", "nogrant"}
AMP_STAFF = {"root", "amp_admin", "fac", "med", "com", "eva"}
