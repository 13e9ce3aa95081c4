"""Field mode: mediators collect on a tablet with no connection, and everything arrives once.

Offline-capable forms are ordinary server-rendered pages marked `data-outbox` (see
`templates/_macros/field.html`); with JavaScript, `static/js/outbox.js` keeps each submission in
IndexedDB with a client-generated id and sends it later to `api_views` (photos first, each with
its hash, then the submission as JSON). `services.receive` makes that idempotent: one `Receipt`
per (kind, client id) with the hash of its content, written in the same transaction as what the
mechanism's adapter (`registry.Adapter`) creates. Mechanisms register an adapter per kind of
submission (walk observations, questionnaire answers, attendance counts, budget proposals).
"""
