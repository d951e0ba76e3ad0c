"""Bulk seeding of a PostgreSQL database for the inbox and HTTP benchmarks: set-based SQL, not the ORM.

One ward (the demo commune) holds every dossier: the worst case for an inbox, where one agency's groups own
all the open tasks. Per dossier: a completed reception step, a completed specialist step for finished ones,
one waiting step for open ones (30% at the desk, 60% with specialists or the leader, 10% waiting for the
citizen's supplement), and two timeline lines. Rows are written by `INSERT … SELECT generate_series(…)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import text

from portal.demo import seed_demo
from portal.extensions import db
from portal.models import Group, Procedure, User

CITIZENS = 10_000


def _ids(query: str, **params: object) -> list[int]:
    return [row[0] for row in db.session.execute(text(query), params)]


def seed(dossiers: int, open_dossiers: int, log: Callable[[str], None] = print) -> dict[str, float]:
    """Fill an empty, migrated database. Returns seconds per phase."""
    list(seed_demo())
    db.session.commit()
    timings: dict[str, float] = {}
    conn = db.session.connection()
    conn.execute(text("SET synchronous_commit TO off"))
    groups = {g.role: g.id for g in db.session.scalars(db.select(Group))}
    officers = {u.email: u.id for u in db.session.scalars(db.select(User).where(User.kind == "officer"))}
    versions = _ids("SELECT v.id FROM procedure_versions v JOIN procedures p ON p.id = v.procedure_id ORDER BY p.key")
    agency_id = db.session.scalar(db.select(Procedure.agency_id).limit(1))
    citizen = db.session.scalar(db.select(User.id).where(User.email == "congdan@motcua.demo"))
    params = {
        "n": dossiers,
        "open": open_dossiers,
        "citizens": CITIZENS,
        "agency": agency_id,
        "demo_citizen": citizen,
        "v0": versions[0],
        "v1": versions[1],
        "v2": versions[2],
        "reception": groups["reception"],
        "specialists": [
            groups["business_registration"],
            groups["ktht_specialist"],
            groups["civil_status"],
            groups["leader"],
        ],
        "desk": officers["tiepnhan@motcua.demo"],
        "specialist": officers["dkkd@motcua.demo"],
    }
    for name, sql in PHASES:
        started = time.perf_counter()
        conn.execute(text(sql), params)
        db.session.commit()
        conn = db.session.connection()
        timings[name] = time.perf_counter() - started
        log(f"  seeded {name} in {timings[name]:.1f} s")
    started = time.perf_counter()
    for table in ("users", "dossiers", "tasks", "dossier_events"):
        # Table names from the fixed tuple above, never from input.
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))  # noqa: S608
        conn.execute(text(f"ANALYZE {table}"))
    db.session.commit()
    timings["analyze"] = time.perf_counter() - started
    return timings


# Dossier i (1..n) has id base+i; dossiers 1..open are open. Ids are offset past the demo rows (none yet).
PHASES: list[tuple[str, str]] = [
    (
        "citizens",
        """
        INSERT INTO users (id, email, full_name, kind, is_admin, active, sso_only, created_at)
        SELECT 100000 + i, 'cd' || i || '@bench.vn', 'Công dân ' || i, 'citizen', false, true, false, now()
        FROM generate_series(1, :citizens) AS i
        """,
    ),
    (
        "dossiers",
        """
        INSERT INTO dossiers (id, code, tracking_secret, procedure_version_id, agency_id, applicant_id, status,
            channel, form_data, workflow_state, lock_version, created_at, submitted_at, received_at,
            appointment_at, finished_at, closed_at, sla_paused_at, sla_paused_hours, timeliness, fee, step_rounds)
        SELECT 1000000 + i,
               'BENCH-' || lpad(i::text, 8, '0'),
               substr(md5(i::text), 1, 16),
               (ARRAY[:v0, :v1, :v2])[1 + i % 3],
               :agency,
               CASE WHEN i % 5000 = 0 THEN :demo_citizen ELSE 100000 + 1 + (i::bigint * 7919) % :citizens END,
               CASE WHEN i <= :open THEN (ARRAY[1, 1, 1, 4, 4, 4, 4, 4, 4, 5])[1 + i % 10]
                    WHEN i % 20 = 18 THEN 3 WHEN i % 20 = 19 THEN 7 ELSE 10
               END,
               2,
               jsonb_build_object('owner_full_name', 'Công dân ' || i, 'business_name', 'Cửa hàng ' || i,
                                  'phone', '0912345678', 'construction_address', 'Số ' || i || ' Lê Lợi'),
               '',
               1,
               c.created, c.created,
               CASE WHEN i <= :open AND i % 10 < 3 THEN NULL ELSE c.created + interval '2 hours' END,
               CASE WHEN i <= :open AND i % 10 < 3 THEN NULL ELSE c.created + interval '5 days' END,
               CASE WHEN i > :open THEN c.created + interval '4 days' END,
               CASE WHEN i > :open THEN c.created + interval '4 days' END,
               CASE WHEN i <= :open AND i % 10 = 9 THEN c.created + interval '2 hours' END,
               0,
               CASE WHEN i > :open THEN 'early' END,
               100000,
               '{}'::jsonb
        FROM generate_series(1, :n) AS i
        CROSS JOIN LATERAL (
            SELECT CASE WHEN i <= :open THEN now() - ((i::bigint * 7919) % 28800) * interval '1 minute'
                        ELSE now() - (30 + i % 700) * interval '1 day' END AS created
        ) c
        """,
    ),
    (
        "reception steps (completed)",
        """
        INSERT INTO tasks (dossier_id, spiff_task_id, bpmn_id, name, role, kind, group_id, state, round,
            created_at, due_at, completed_at, completed_by_id, outcome, comment, timeliness)
        SELECT d.id, md5(d.id::text || 'r'), 'reception_check', 'Tiếp nhận, kiểm tra hồ sơ', 'reception',
               'reception', :reception, 'completed', 1, d.created_at, d.created_at + interval '4 hours',
               d.created_at + interval '2 hours', :desk,
               CASE WHEN d.status = 5 THEN 'supplement' WHEN d.status = 3 THEN 'refuse' ELSE 'accept' END,
               CASE WHEN d.status = 5 THEN 'Thiếu hợp đồng thuê nhà' END, 'early'
        FROM dossiers d WHERE d.status <> 1
        """,
    ),
    (
        "specialist steps (completed)",
        """
        INSERT INTO tasks (dossier_id, spiff_task_id, bpmn_id, name, role, kind, group_id, state, round,
            created_at, due_at, completed_at, completed_by_id, outcome, timeliness)
        SELECT d.id, md5(d.id::text || 's'), 'specialist_review', 'Thẩm định hồ sơ', 'business_registration',
               NULL, (:specialists)[1 + d.id % 4], 'completed', 1, d.received_at, d.received_at + interval '2 days',
               d.received_at + interval '1 day', :specialist, 'approve', 'early'
        FROM dossiers d WHERE d.status = 10
        """,
    ),
    (
        "open steps",
        """
        INSERT INTO tasks (dossier_id, spiff_task_id, bpmn_id, name, role, kind, group_id, assignee_id, state,
            round, created_at, due_at)
        SELECT d.id, md5(d.id::text || 'o'),
               CASE d.status WHEN 1 THEN 'reception_check' WHEN 4 THEN 'specialist_review'
                    ELSE 'reception_supplement' END,
               CASE d.status WHEN 1 THEN 'Tiếp nhận, kiểm tra hồ sơ' WHEN 4 THEN 'Thẩm định hồ sơ'
                    ELSE 'Bổ sung, hoàn thiện hồ sơ' END,
               CASE d.status WHEN 1 THEN 'reception' WHEN 4 THEN 'business_registration' ELSE 'applicant' END,
               CASE d.status WHEN 1 THEN 'reception' WHEN 5 THEN 'supplement' END,
               CASE d.status WHEN 1 THEN :reception WHEN 4 THEN (:specialists)[1 + d.id % 4] END,
               CASE WHEN d.status = 5 THEN d.applicant_id END,
               'ready', 1,
               coalesce(d.received_at, d.created_at) + interval '2 hours',
               CASE WHEN d.status <> 5 THEN now() + (((d.id::bigint * 104729) % 2000) - 500) * interval '10 minutes' END
        FROM dossiers d WHERE d.closed_at IS NULL AND d.code LIKE 'BENCH-%'
        """,
    ),
    (
        "timeline",
        """
        INSERT INTO dossier_events (dossier_id, at, actor_id, kind, step, step_name, from_status, to_status, note)
        SELECT d.id, d.created_at, d.applicant_id, 'submitted', 'submit', 'Nộp hồ sơ', NULL, 1, NULL
        FROM dossiers d
        UNION ALL
        SELECT d.id, d.created_at + interval '2 hours', :desk, 'status', 'reception_check',
               'Tiếp nhận, kiểm tra hồ sơ', 1, d.status, NULL
        FROM dossiers d WHERE d.status <> 1
        """,
    ),
]
