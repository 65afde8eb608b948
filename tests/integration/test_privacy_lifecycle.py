"""Key rotation and the retention rule: personal data changes, the audit chain does not break."""

from __future__ import annotations

from megacity.bootstrap import Megacity, bootstrap
from megacity.domain.enums import Channel, Kind
from megacity.services import intake, queries
from megacity.services.audit import verify
from megacity.services.privacy import apply_retention, rotate_keys
from megacity.settings import Settings
from tests.conftest import Clock

REQUEST = intake.NewRequest(
    channel=Channel.PHONE, kind=Kind.HELP, title="积水", text="小区门口积水", phone="13611112222", name="赵六"
)


def test_key_rotation_keeps_data_readable_and_pseudonyms_stable(
    megacity: Megacity, settings: Settings, clock: Clock
) -> None:
    ticket, _ = intake.submit(app=megacity, request=REQUEST, actor="op", role="operator")
    pseudonym = ticket.complainant_id or ""
    rotated_settings = settings.model_copy(
        update={
            "secret_key": "a-brand-new-key",
            "previous_secret_keys": settings.secret_key,
            "pseudonym_key": settings.secret_key,
        }
    )
    rotating = bootstrap(rotated_settings, clock=clock)
    assert rotate_keys(app=rotating) == 1
    new_only = bootstrap(rotated_settings.model_copy(update={"previous_secret_keys": ""}), clock=clock)
    assert queries.contact_of(app=new_only, complainant_id=pseudonym) == {
        "name": "赵六",
        "phone": "13611112222",
    }
    again, _ = intake.submit(app=new_only, request=REQUEST, actor="op", role="operator")
    assert again.complainant_id == pseudonym
    report = verify(app=new_only)
    assert report.broken_at is None and not report.reason


def test_retention_erases_old_personal_data_only(megacity: Megacity, clock: Clock) -> None:
    old, _ = intake.submit(app=megacity, request=REQUEST, actor="op", role="operator")
    clock.advance(days=megacity.profile.retention_days + 10)
    recent_request = intake.NewRequest(**{**REQUEST.__dict__, "phone": "13633334444"})
    recent, _ = intake.submit(app=megacity, request=recent_request, actor="op", role="operator")
    assert apply_retention(app=megacity, dry_run=True) == 1
    assert apply_retention(app=megacity) == 1
    assert queries.contact_of(app=megacity, complainant_id=old.complainant_id or "") is None
    assert queries.contact_of(app=megacity, complainant_id=recent.complainant_id or "") is not None
    assert queries.get_ticket(app=megacity, ticket_id=old.id).complainant_id == old.complainant_id
    assert apply_retention(app=megacity) == 0
    report = verify(app=megacity)
    assert report.broken_at is None and not report.reason
