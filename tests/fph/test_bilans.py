"""Bilans: sent from the private link or keyed by staff, photos re-encoded without EXIF and
unpublished until checked, closing, overdue bilans flagged."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from participation.core.channels import Channel
from participation.extensions import db
from participation.fph import services
from participation.fph.models import AppStatus, Bilan, BilanPhoto

from ..conftest import count, csrf_from
from .test_funds_support import COM, FAC, count_where, grant, jpeg_with_exif, login, make_application, make_fund


def _bilans(application) -> int:
    """Bilans of the test's application (the demo fund has its own)."""
    return count_where(Bilan, Bilan.application_id == application.id)


def _granted(**overrides):
    fund = make_fund(envelope=5000)
    app, secret = make_application(fund, **overrides)
    grant(app, 800)
    return app, secret


def _send_bilan(client, secret, photos=(), lang="en", **fields):
    page = client.get(f"/fph/a/{secret}?lang={lang}")
    data = {"summary": "Trente enfants ont joué dans la cour.", "participants": "30", "spent": "750",
            "csrf_token": csrf_from(page.get_data(as_text=True)), **fields}
    for i, (content, caption) in enumerate(photos):
        data[f"photos-{i}-photo"] = (io.BytesIO(content), f"p{i}.jpg")
        data[f"photos-{i}-caption"] = caption
    return client.post(f"/fph/a/{secret}/bilan", data=data, content_type="multipart/form-data")


def test_the_applicants_send_a_bilan_with_a_photo_whose_exif_is_stripped(client, app, demo):
    application, secret = _granted()
    resp = _send_bilan(client, secret, [(jpeg_with_exif(), "Les enfants plantent des fleurs")])
    assert resp.status_code == 302
    bilan = db.session.scalar(sa.select(Bilan).filter_by(application_id=application.id))
    assert bilan.participants == 30 and bilan.spent == 750 and bilan.channel == Channel.web
    photo = bilan.photos[0]
    assert photo.caption == "Les enfants plantent des fleurs" and photo.published is False
    stored = services.photo_store().open(photo.sha)
    assert b"SecretCamera" not in stored and b"TrackMe" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    db.session.refresh(application)
    assert application.status == AppStatus.bilan_received


def test_no_bilan_before_the_grant(client, demo):
    fund = make_fund()
    app, secret = make_application(fund)
    html = client.get(f"/fph/a/{secret}").get_data(as_text=True)
    assert 'name="summary"' not in html
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(f"/fph/a/{secret}/bilan", data={"summary": "Une fête réussie.", "csrf_token": token})
    assert resp.status_code == 409 and _bilans(app) == 0


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_saved(client, demo):
    app, secret = _granted()
    photos_before = count(BilanPhoto)
    resp = _send_bilan(client, secret, [(b"<svg onload=alert(1)></svg>", "x")])
    assert resp.status_code == 422 and _bilans(app) == 0 and count(BilanPhoto) == photos_before


@pytest.mark.parametrize("participants", ["-1", "beaucoup", "١٠", "10000000000000000"])
def test_junk_numbers_in_the_bilan_are_422(client, demo, participants):
    app, secret = _granted()
    resp = _send_bilan(client, secret, participants=participants)
    assert resp.status_code == 422 and _bilans(app) == 0


def test_an_unpublished_photo_never_appears_on_public_pages(client, demo):
    application, secret = _granted()
    _send_bilan(client, secret, [(jpeg_with_exif(), "Le goûter")])
    sha = db.session.scalar(sa.select(BilanPhoto.sha).join(Bilan).filter(Bilan.application_id == application.id))
    assert sha
    fund_id = application.fund_id
    for url in (f"/fph/{fund_id}", f"/fph/{fund_id}/projects"):
        html = client.get(url).get_data(as_text=True)
        assert "Fête de fin d" in html  # the project is listed (its bilan text waits for closing)
        assert sha not in html


def test_a_published_photo_appears_with_its_caption_as_alt_text(client, auth, demo):
    application, secret = _granted()
    _send_bilan(client, secret, [(jpeg_with_exif(), "Le goûter")])
    photo = db.session.scalar(sa.select(BilanPhoto).join(Bilan).filter(Bilan.application_id == application.id))
    login(auth, FAC)
    assert auth.post(f"/admin/fph/applications/{application.id}/photos",
                     {"photo_id": str(photo.id), "publish": "1"}).status_code == 302
    html = client.get(f"/fph/{application.fund_id}/projects").get_data(as_text=True)
    assert photo.sha in html and 'alt="Le goûter"' in html
    assert auth.post(f"/admin/fph/applications/{application.id}/photos",
                     {"photo_id": str(photo.id), "publish": "0"}).status_code == 302
    assert photo.sha not in client.get(f"/fph/{application.fund_id}/projects").get_data(as_text=True)


@pytest.mark.parametrize("photo_id", ["", "abc", "999999", "-1"])
def test_publishing_a_junk_or_foreign_photo_id_is_422(client, auth, demo, photo_id):
    application, _secret = _granted()
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{application.id}/photos", {"photo_id": photo_id, "publish": "1"})
    assert resp.status_code == 422


def test_a_photo_of_another_application_cannot_be_published_from_this_one(client, auth, demo):
    first, secret = _granted()
    _send_bilan(client, secret, [(jpeg_with_exif(), "x")])
    second, _s = make_application(first.fund)
    photo = db.session.scalar(sa.select(BilanPhoto).join(Bilan).filter(Bilan.application_id == first.id))
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{second.id}/photos", {"photo_id": str(photo.id), "publish": "1"})
    assert resp.status_code == 422
    db.session.refresh(photo)
    assert photo.published is False


def test_a_facilitator_keys_a_paper_bilan(client, auth, demo):
    application, _secret = _granted()
    login(auth, FAC)
    resp = auth.post(f"/admin/fph/applications/{application.id}/bilan",
                     {"summary": "Bilan reçu sur papier au centre social.", "participants": "12", "channel": "paper"})
    assert resp.status_code == 302
    bilan = db.session.scalar(sa.select(Bilan).filter_by(application_id=application.id))
    assert bilan.channel == Channel.paper and bilan.participants == 12


def test_a_committee_member_cannot_key_a_bilan(client, auth, demo):
    application, _secret = _granted()
    login(auth, COM)
    resp = auth.post(f"/admin/fph/applications/{application.id}/bilan",
                     {"summary": "Bilan reçu sur papier.", "channel": "paper"})
    assert resp.status_code == 403 and _bilans(application) == 0


def test_a_bilan_has_at_most_four_photos(demo):
    application, _secret = _granted()
    photo = services.process_photos([jpeg_with_exif()])[0]
    services.record_bilan(application, summary="Une belle fête.", participants=5, spent=100, photos=[(photo, "a")] * 4)
    with pytest.raises(services.ServiceError) as e:
        services.record_bilan(application, summary="Une belle fête.", participants=5, spent=100, photos=[(photo, "b")])
    assert e.value.code == "too_many_photos"


def test_closing_needs_the_bilan(client, auth, demo):
    application, secret = _granted()
    login(auth, FAC)
    assert auth.post(f"/admin/fph/applications/{application.id}/close").status_code == 422
    _send_bilan(client, secret)
    assert auth.post(f"/admin/fph/applications/{application.id}/close").status_code == 302
    db.session.refresh(application)
    assert application.status == AppStatus.closed


def test_an_overdue_bilan_is_flagged_on_the_fund_page_and_in_the_index(client, auth, demo):
    past = date.today() - timedelta(days=200)
    application, _secret = _granted(starts_on=past, ends_on=past)
    assert application.bilan_due_on < date.today()
    login(auth, FAC)
    client.get("/admin/?lang=en")
    fund_page = client.get(f"/admin/fph/{application.fund_id}").get_data(as_text=True)
    assert "bilan overdue" in fund_page
    index = client.get("/admin/fph/").get_data(as_text=True)
    row = next(r for r in index.split("<tr>") if f'/admin/fph/{application.fund_id}"' in r)  # not the demo fund's row
    assert 'class="fph-overdue">1<' in row


def test_a_bilan_received_is_no_longer_overdue(client, demo):
    past = date.today() - timedelta(days=200)
    application, secret = _granted(starts_on=past, ends_on=past)
    assert services.is_overdue(application)
    _send_bilan(client, secret)
    db.session.refresh(application)
    assert not services.is_overdue(application)
    assert services.overdue_counts([application.fund_id]) == {}
