"""Bulk data for the operations-centre benchmark (bench/dashboard.py): a province of ~20 agencies, two years.

Set-based SQL only (`INSERT … SELECT` over `generate_series`, one statement per table), deterministic
(`setseed`). The shape:

- the demo province and commune (portal.demo), 18 more communes, each with the five groups of the bundled
  procedures (2 officers each); a province-level leaders' group with one leader;
- 8 procedures per commune (copies of the three bundled BPMN procedures, in 6 fields), each with a retired
  version 1 (dossiers older than 16 months) and a published version 2;
- dossiers spread over 730 days, 35 % in the demo commune, half of those in its household-business procedure
  (≈ 117,000 dossiers in its version 2: the busy procedure of the waiting view); 60 % online, 35 % at the desk,
  5 % by post; 12 % with one or two supplement rounds at reception; 3 % not accepted, 2 % stopped, 2 % withdrawn,
  the rest finished and returned; processing takes 0.2–1.12× the deadline, or 1.5–7.5× for 3 % (≈ 11 % late,
  and a backlog of overdue dossiers); recent dossiers are
  still open at the step their plan has reached (new, waiting for the citizen, in process, finished awaiting
  return); 35 % of the returned ones are rated (6 % unsatisfied, 44 % satisfied, 50 % very satisfied);
- a task row per step (reception checks per round, the citizen's supplements, the specialists', the leader's,
  the return) with groups, officers, due dates, timeliness; the timeline: submitted, step started/completed per
  task (the reason given when a step refuses or asks for a supplement), status changes into and out of
  supplement, the citizen's withdrawal with its reason, closed.

Secondary indexes of the three big tables are dropped while they are filled and built again afterwards, and
foreign-key triggers are off during the fill (`session_replication_role = replica`): the rows are consistent
by construction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from common import ROOT  # noqa: F401  (puts the project on sys.path)
from sqlalchemy import text
from sqlalchemy.engine import Connection

from portal.demo import COMMUNE_CODE, PROVINCE_CODE, seed_demo
from portal.extensions import db
from portal.models import Agency, Group, Membership, User

CITIZENS = 50_000
EXTRA_COMMUNES = 18
PROCEDURES_PER_AGENCY = 8
PROVINCE_LEADER = "chutich@bench.vn"
AGENCY_LEADER = "lanhdao@motcua.demo"  # leader of the demo commune, the busiest agency
ROLES = ("reception", "civil_status", "business_registration", "ktht_specialist", "leader")
FIELDS = ("Đăng ký kinh doanh", "Hộ tịch", "Xây dựng", "Đất đai", "Tư pháp", "Văn hóa – Xã hội")
# Steps after reception of each bundled procedure (the last one returns the result), with their roles.
STEPS = {
    "household_business": [
        ("specialist_review", "Thẩm định hồ sơ đăng ký hộ kinh doanh", "business_registration"),
        ("leader_approval", "Phê duyệt, ký Giấy chứng nhận đăng ký hộ kinh doanh", "leader"),
        ("return_result", "Trả kết quả", "reception"),
    ],
    "birth_registration": [
        ("civil_status_review", "Kiểm tra hồ sơ, dự thảo Giấy khai sinh", "civil_status"),
        ("leader_sign", "Ký Giấy khai sinh", "leader"),
        ("return_result", "Trả kết quả", "reception"),
    ],
    "construction_permit": [
        ("site_inspection", "Kiểm tra thực địa", "ktht_specialist"),
        ("appraisal", "Thẩm định hồ sơ", "ktht_specialist"),
        ("leader_approval", "Phê duyệt, ký giấy phép xây dựng", "leader"),
        ("return_permit", "Trả giấy phép xây dựng", "reception"),
    ],
}
DEADLINE_DAYS = {"household_business": 3, "birth_registration": 1, "construction_permit": 15}
SHARE_IN_AGENCY = (0.50, 0.15, 0.10, 0.07, 0.06, 0.05, 0.04, 0.03)
BUSY_AGENCY_SHARE = 0.35
V2_DAYS = 487  # dossiers younger than this use version 2


def _columns(conn: Connection, table: str) -> list[str]:
    rows = conn.execute(
        text("SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"),
        {"t": table},
    )
    return [r[0] for r in rows]


def _copy_sql(conn: Connection, table: str, overrides: dict[str, str], source: str) -> str:
    """`INSERT INTO table (every column but id) SELECT …` with some columns replaced by SQL expressions."""
    columns = [c for c in _columns(conn, table) if c != "id"]
    values = [overrides.get(c, f"s.{c}") for c in columns]
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"  # noqa: S608


def _people_and_places(conn: Connection, t0: datetime) -> None:
    """Agencies, groups, officers, citizens, the province leader; procedures and their two versions."""
    province = db.session.scalar(db.select(Agency).where(Agency.code == PROVINCE_CODE))
    assert province is not None
    for k in range(EXTRA_COMMUNES):
        db.session.add(
            Agency(
                code=f"000.00.{40 + k}.H56",
                name=f"UBND xã Thử Nghiệm {k + 1}",
                name_en=f"Bench Commune {k + 1}",
                level="commune",
                parent_id=province.id,
            )
        )
    leaders = Group(agency_id=province.id, role="leader", name="Lãnh đạo UBND tỉnh", name_en="Province leaders")
    leaders.is_leadership = True
    db.session.add(leaders)
    db.session.flush()
    for agency in db.session.scalars(db.select(Agency).where(Agency.code.like("000.00.4%"))):
        for role in ROLES:
            group = Group(agency_id=agency.id, role=role, name=f"Nhóm {role}", name_en=f"Group {role}")
            group.is_leadership = role == "leader"
            db.session.add(group)
    chief = User(email=PROVINCE_LEADER, full_name="Chủ tịch Thử Nghiệm", kind="officer")
    from flask import current_app

    chief.set_password(current_app.config["DEMO_PASSWORD"])
    db.session.add(chief)
    db.session.flush()
    db.session.add(Membership(user_id=chief.id, group_id=leaders.id))
    db.session.commit()
    conn = db.session.connection()
    conn.execute(text("SET TimeZone TO 'UTC'"))
    conn.execute(
        text(
            """
            INSERT INTO users (id, email, full_name, kind, is_admin, active, sso_only, created_at)
            SELECT 100000 + i, 'cd' || i || '@bench.vn', 'Công dân ' || i, 'citizen', false, true, false, now()
            FROM generate_series(1, :citizens) AS i
            """
        ),
        {"citizens": CITIZENS},
    )
    conn.execute(
        text(
            """
            INSERT INTO users (id, email, full_name, kind, is_admin, active, sso_only, created_at)
            SELECT 90000 + g.id * 2 + k, 'cb' || g.id || '-' || k || '@bench.vn', 'Cán bộ ' || g.id || '-' || k,
                   'officer', false, true, false, now()
            FROM groups g CROSS JOIN generate_series(0, 1) AS k WHERE g.agency_id <> :province
            """
        ),
        {"province": province.id},
    )
    conn.execute(
        text(
            "INSERT INTO memberships (user_id, group_id, source) "
            "SELECT 90000 + g.id * 2 + k, g.id, 'local' FROM groups g CROSS JOIN generate_series(0, 1) AS k "
            "WHERE g.agency_id <> :province"
        ),
        {"province": province.id},
    )
    # Procedures: the three bundled ones of the demo commune are slots 0–2 of it; the rest are copies.
    conn.execute(
        text(
            """
            CREATE UNLOGGED TABLE bench_procs (n serial PRIMARY KEY, procedure_id int, agency_id int, kind text,
                j int, deadline_days int, v1 int, v2 int, weight float8)
            """
        )
    )
    communes = [
        r[0]
        for r in conn.execute(
            text("SELECT id FROM agencies WHERE level = 'commune' ORDER BY (code = :demo) DESC, code"),
            {"demo": COMMUNE_CODE},
        )
    ]
    bases = {r[1]: r[0] for r in conn.execute(text("SELECT id, key FROM procedures"))}
    kinds = list(STEPS)
    for a_index, agency_id in enumerate(communes):
        share = BUSY_AGENCY_SHARE if a_index == 0 else (1 - BUSY_AGENCY_SHARE) / (len(communes) - 1)
        for j in range(PROCEDURES_PER_AGENCY):
            kind = kinds[j % 3]
            if a_index == 0 and j < 3:
                procedure_id = bases[kind]
            else:
                procedure_id = conn.execute(
                    text(
                        _copy_sql(
                            conn,
                            "procedures",
                            {
                                "key": "s.key || :suffix",
                                "code": "s.code || :suffix",
                                "name": "s.name || ' (' || :n || ')'",
                                "agency_id": ":agency",
                                "field": ":field",
                            },
                            "procedures s WHERE s.id = :base",
                        )
                        + " RETURNING id"
                    ),
                    {
                        "suffix": f".b{a_index}.{j}",
                        "n": f"{a_index}.{j}",
                        "agency": agency_id,
                        "field": FIELDS[j % len(FIELDS)],
                        "base": bases[kind],
                    },
                ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO bench_procs (procedure_id, agency_id, kind, j, deadline_days, weight) "
                    "VALUES (:p, :a, :k, :j, :d, :w)"
                ),
                {
                    "p": procedure_id,
                    "a": agency_id,
                    "k": kind,
                    "j": j,
                    "d": DEADLINE_DAYS[kind],
                    "w": share * SHARE_IN_AGENCY[j],
                },
            )
    # Two versions per procedure: the bundled version 1 of the demo commune's three becomes their retired
    # version 1; every other version is a copy of the bundled version of its kind.
    base_versions = {
        r[0]: r[1]
        for r in conn.execute(
            text("SELECT p.key, v.id FROM procedure_versions v JOIN procedures p ON p.id = v.procedure_id")
        )
    }
    conn.execute(text("UPDATE procedure_versions SET status = 'retired', retired_at = :t"), {"t": t0})
    for number, status in ((1, "retired"), (2, "published")):
        for kind in kinds:
            conn.execute(
                text(
                    _copy_sql(
                        conn,
                        "procedure_versions",
                        {
                            "procedure_id": "b.procedure_id",
                            "number": ":number",
                            "status": ":status",
                            "created_at": "CAST(:t AS timestamptz) - interval '800 days'",
                            "published_at": "CAST(:t AS timestamptz) - interval '800 days'",
                            "retired_at": "CASE WHEN :number = 1 THEN CAST(:t AS timestamptz) END",
                        },
                        "procedure_versions s JOIN bench_procs b ON b.kind = :kind "
                        "WHERE s.id = :base AND (:number = 2 OR b.procedure_id <> s.procedure_id)",
                    )
                ),
                {"number": number, "status": status, "t": t0, "kind": kind, "base": base_versions[kind]},
            )
    conn.execute(
        text(
            """
            UPDATE bench_procs b SET
              v1 = (SELECT id FROM procedure_versions v WHERE v.procedure_id = b.procedure_id AND v.number = 1),
              v2 = (SELECT id FROM procedure_versions v WHERE v.procedure_id = b.procedure_id AND v.number = 2)
            """
        )
    )
    # 10,000 slots shared out by weight: a dossier draws a slot, the slot names its procedure.
    conn.execute(
        text(
            """
            CREATE UNLOGGED TABLE bench_slots AS
            WITH w AS (SELECT n, sum(weight) OVER (ORDER BY n) / sum(weight) OVER () AS hi FROM bench_procs)
            SELECT s AS slot, (SELECT min(n) FROM w WHERE w.hi * 10000 > s) AS n
            FROM generate_series(0, 9999) AS s
            """
        )
    )
    conn.execute(text("CREATE UNLOGGED TABLE bench_groups AS SELECT id, agency_id, role FROM groups"))
    rows = [
        {
            "kind": kind,
            "seq": i + 2,
            "bpmn_id": b,
            "name": n,
            "role": r,
            "last": i == len(steps) - 1,
            "mid": len(steps) - 1,
        }
        for kind, steps in STEPS.items()
        for i, (b, n, r) in enumerate(steps)
    ]
    conn.execute(
        text(
            "CREATE UNLOGGED TABLE bench_steps (kind text, seq int, bpmn_id text, name text, role text, "
            "last boolean, mid int)"
        )
    )
    conn.execute(
        text("INSERT INTO bench_steps VALUES (:kind, :seq, :bpmn_id, :name, :role, :last, :mid)"),
        rows,
    )


PLAN = """
CREATE UNLOGGED TABLE bench_plan AS
SELECT b.i AS id, p.kind, p.agency_id, p.procedure_id,
       CASE WHEN c.created < :t0 - :v2_days * interval '1 day' THEN p.v1 ELSE p.v2 END AS version_id,
       100001 + (b.i::bigint * 7919) % :citizens AS applicant_id,
       CASE WHEN b.u_chan < 0.6 THEN 2 WHEN b.u_chan < 0.95 THEN 1 ELSE 3 END AS channel,
       c.created AS created_at, r.rounds, o.outcome, f.factor,
       c.created + r.rounds * interval '48 hours' AS reception_start,
       c.created + r.rounds * interval '48 hours' + interval '2 hours' AS reception_end,
       c.created + r.rounds * interval '48 hours' + interval '2 hours'
           + p.deadline_days * interval '1.4 days' AS appointment,
       c.created + r.rounds * interval '48 hours' + interval '2 hours'
           + p.deadline_days * f.factor * interval '1.4 days' AS finish,
       CASE o.outcome
           WHEN 'not_accepted' THEN c.created + r.rounds * interval '48 hours' + interval '2 hours'
           WHEN 'result' THEN c.created + r.rounds * interval '48 hours' + interval '2 hours'
               + p.deadline_days * f.factor * interval '1.4 days' + (1 + b.u_ret * 47) * interval '1 hour'
           ELSE c.created + r.rounds * interval '48 hours' + interval '2 hours'
               + p.deadline_days * f.factor * interval '0.7 days'
       END AS closed,
       b.u_rate, b.u_level
FROM (
    SELECT i, random() AS u_slot, random() AS u_day, random() AS u_min, random() AS u_chan, random() AS u_round,
           random() AS u_factor, random() AS u_stuck, random() AS u_out, random() AS u_ret, random() AS u_rate,
           random() AS u_level
    FROM generate_series(1, :n) AS i
) b
JOIN bench_slots s ON s.slot = floor(b.u_slot * 10000)::int
JOIN bench_procs p ON p.n = s.n
CROSS JOIN LATERAL (
    SELECT CASE WHEN x > :t0 THEN x - interval '1 day' ELSE x END AS created
    FROM (SELECT date_trunc('day', CAST(:t0 AS timestamptz)) - floor(b.u_day * 730) * interval '1 day'
                 + (30 + b.u_min * 570) * interval '1 minute' AS x) q
) c
CROSS JOIN LATERAL (SELECT CASE WHEN b.u_round < 0.02 THEN 2 WHEN b.u_round < 0.12 THEN 1 ELSE 0 END AS rounds) r
CROSS JOIN LATERAL (
    -- 3 % get stuck (1.5–7.5× the deadline): the overdue backlog every province has
    SELECT CASE WHEN b.u_stuck < 0.03 THEN 1.5 + b.u_factor * 6 ELSE 0.2 + b.u_factor * 0.92 END AS factor
) f
CROSS JOIN LATERAL (
    SELECT CASE WHEN b.u_out < 0.03 THEN 'not_accepted' WHEN b.u_out < 0.05 THEN 'stopped'
                WHEN b.u_out < 0.07 THEN 'withdrawn' ELSE 'result' END AS outcome
) o
"""

DOSSIERS = """
INSERT INTO dossiers (id, code, tracking_secret, procedure_version_id, agency_id, applicant_id, status, channel,
    form_data, workflow_state, lock_version, created_at, submitted_at, received_at, appointment_at, finished_at,
    returned_at, closed_at, sla_paused_at, sla_paused_hours, timeliness, fee, step_rounds)
SELECT p.id, 'BD-' || lpad(p.id::text, 8, '0'), substr(md5(p.id::text), 1, 16), p.version_id, p.agency_id,
       p.applicant_id, st.status, p.channel,
       jsonb_build_object('owner_full_name', 'Công dân ' || p.applicant_id, 'business_name', 'Cơ sở ' || p.id),
       '', 1, p.created_at, p.created_at,
       CASE WHEN st.received THEN p.reception_end END,
       CASE WHEN st.received THEN p.appointment END,
       CASE WHEN st.status IN (9, 10) THEN p.finish WHEN st.status IN (3, 7, 8) THEN p.closed END,
       CASE WHEN st.status = 10 THEN p.closed END,
       CASE WHEN st.status IN (3, 7, 8, 10) THEN p.closed END,
       CASE WHEN st.status = 5 THEN p.created_at + (floor(st.hours / 48) * 48 + 1) * interval '1 hour' END,
       0,
       CASE WHEN st.status IN (9, 10) THEN
                CASE WHEN p.factor > 1 THEN 'late' WHEN p.factor > 0.85 THEN 'on_time' ELSE 'early' END
            WHEN st.status = 8 THEN 'early' END,
       0, '{}'::jsonb
FROM bench_plan p
CROSS JOIN LATERAL (
    SELECT extract(epoch FROM :t0 - p.created_at) / 3600 AS hours,
           p.outcome <> 'not_accepted' AND p.reception_end <= :t0 AS received
) h
CROSS JOIN LATERAL (
    SELECT h.hours, h.received,
           CASE WHEN p.closed <= :t0 THEN
                    CASE p.outcome WHEN 'result' THEN 10 WHEN 'not_accepted' THEN 3 WHEN 'stopped' THEN 8 ELSE 7 END
                WHEN p.reception_end > :t0 THEN
                    CASE WHEN h.hours < p.rounds * 48 AND mod(h.hours::numeric, 48) >= 1 THEN 5 ELSE 1 END
                WHEN p.outcome = 'result' AND p.finish <= :t0 THEN 9
                ELSE 4
           END AS status
) st
"""

# Every step of every dossier as a planned interval, then cut at the dossier's end and at the moment of
# generation: a step not yet started has no row, one under way is ready, a withdrawn dossier's is cancelled.
TASKS = """
WITH steps AS (
    -- reception checks that asked for a supplement, and the citizen's answers
    SELECT p.id AS dossier_id, p.applicant_id, p.agency_id, p.outcome, p.closed, k AS round,
           'reception_check' AS bpmn_id, 'Tiếp nhận, kiểm tra hồ sơ' AS name, 'reception' AS role,
           'reception' AS kind, p.created_at + (k - 1) * interval '48 hours' AS started,
           p.created_at + (k - 1) * interval '48 hours' + interval '1 hour' AS ended,
           p.created_at + (k - 1) * interval '48 hours' + interval '4 hours' AS due, 'supplement' AS result
    FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.rounds) AS k
    UNION ALL
    SELECT p.id, p.applicant_id, p.agency_id, p.outcome, p.closed, k, 'reception_supplement',
           'Bổ sung, hoàn thiện hồ sơ', 'applicant', 'supplement',
           p.created_at + (k - 1) * interval '48 hours' + interval '1 hour',
           p.created_at + k * interval '48 hours', NULL, 'submitted'
    FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.rounds) AS k
    UNION ALL
    -- the reception check that decided
    SELECT p.id, p.applicant_id, p.agency_id, p.outcome, p.closed, p.rounds + 1, 'reception_check',
           'Tiếp nhận, kiểm tra hồ sơ', 'reception', 'reception', p.reception_start, p.reception_end,
           p.reception_start + interval '4 hours',
           CASE WHEN p.outcome = 'not_accepted' THEN 'refuse' ELSE 'accept' END
    FROM bench_plan p
    UNION ALL
    -- processing steps share the time from reception to the end of processing; the last one returns the result
    SELECT p.id, p.applicant_id, p.agency_id, p.outcome, p.closed, 1, s.bpmn_id, s.name, s.role, NULL,
           CASE WHEN s.last THEN p.finish ELSE p.reception_end + (p.finish - p.reception_end) * (s.seq - 2) / s.mid END,
           CASE WHEN s.last THEN p.closed ELSE p.reception_end + (p.finish - p.reception_end) * (s.seq - 1) / s.mid END,
           CASE WHEN s.last THEN p.finish + interval '1 day'
                ELSE p.reception_end + (p.appointment - p.reception_end) * (s.seq - 1) / s.mid END,
           'approve'
    FROM bench_plan p JOIN bench_steps s ON s.kind = p.kind
    WHERE p.outcome <> 'not_accepted' AND (NOT s.last OR p.outcome = 'result')
)
INSERT INTO tasks (dossier_id, spiff_task_id, bpmn_id, name, role, kind, group_id, assignee_id, state, round,
    created_at, due_at, completed_at, completed_by_id, outcome, timeliness)
SELECT s.dossier_id, md5(s.dossier_id || ':' || s.bpmn_id || ':' || s.round), s.bpmn_id, s.name, s.role, s.kind,
       g.id,
       CASE WHEN g.id IS NULL THEN s.applicant_id
            WHEN e.state = 'ready' AND s.dossier_id % 2 = 0 THEN 90000 + g.id * 2 + s.dossier_id % 2 END,
       e.state, s.round, s.started, s.due, CASE WHEN e.state <> 'ready' THEN e.ended END,
       CASE WHEN e.state = 'completed' THEN coalesce(90000 + g.id * 2 + (s.dossier_id / 2) % 2, s.applicant_id) END,
       CASE WHEN e.state = 'completed' THEN e.result END,
       CASE WHEN e.state = 'completed' AND s.due IS NOT NULL THEN
            CASE WHEN e.ended > s.due THEN 'late' ELSE 'early' END END
FROM steps s
LEFT JOIN bench_groups g ON g.agency_id = s.agency_id AND g.role = s.role
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.outcome IN ('stopped', 'withdrawn') AND s.ended > s.closed THEN s.closed ELSE s.ended END
               AS ended,
           CASE WHEN s.outcome IN ('stopped', 'withdrawn') AND s.ended > s.closed THEN
                    CASE WHEN s.outcome = 'stopped' THEN 'refuse' END
                ELSE s.result END AS result,
           CASE WHEN s.outcome IN ('stopped', 'withdrawn') AND s.ended > s.closed THEN
                    CASE WHEN s.closed > :t0 THEN 'ready' WHEN s.outcome = 'stopped' THEN 'completed'
                         ELSE 'cancelled' END
                WHEN s.ended <= :t0 THEN 'completed' ELSE 'ready' END AS state
) e
WHERE s.started <= :t0 AND (s.outcome NOT IN ('stopped', 'withdrawn') OR s.started < s.closed)
"""

EVENTS = """
INSERT INTO dossier_events (dossier_id, at, actor_id, kind, step, step_name, from_status, to_status, note, data)
SELECT d.id, d.created_at, d.applicant_id, 'submitted', NULL::text, NULL::text, NULL::smallint, NULL::smallint,
       NULL::text, jsonb_build_object('code', d.code, 'channel', d.channel)
FROM dossiers d
UNION ALL
SELECT t.dossier_id, t.created_at, NULL, 'step_started', t.bpmn_id, t.name, NULL, NULL, NULL, NULL
FROM tasks t
UNION ALL
SELECT t.dossier_id, t.completed_at, t.completed_by_id, 'step_completed', t.bpmn_id, t.name, NULL, NULL,
       CASE t.outcome WHEN 'supplement' THEN 'Thiếu hợp đồng thuê nhà'
                      WHEN 'refuse' THEN (ARRAY['Không thuộc thẩm quyền', 'Hồ sơ không hợp lệ',
                                                'Không đủ điều kiện cấp phép'])[1 + t.dossier_id % 3] END,
       jsonb_build_object('outcome', t.outcome, 'timeliness', t.timeliness)
FROM tasks t WHERE t.state = 'completed'
UNION ALL
SELECT t.dossier_id, t.completed_at, t.completed_by_id, 'status', t.bpmn_id, t.name, 1, 5, 'Thiếu giấy tờ', NULL
FROM tasks t WHERE t.state = 'completed' AND t.outcome = 'supplement'
UNION ALL
SELECT t.dossier_id, t.completed_at, t.completed_by_id, 'status', t.bpmn_id, t.name, 5, 1, NULL, NULL
FROM tasks t WHERE t.state = 'completed' AND t.bpmn_id = 'reception_supplement'
UNION ALL
SELECT d.id, d.closed_at, d.applicant_id, 'status', NULL, NULL, 4, 7,
       (ARRAY['Muốn nộp lại hồ sơ khác', 'Không còn nhu cầu'])[1 + d.id % 2], NULL
FROM dossiers d WHERE d.status = 7
UNION ALL
SELECT d.id, d.closed_at, NULL, 'closed', NULL, NULL, NULL, d.status, NULL,
       jsonb_build_object('timeliness', d.timeliness)
FROM dossiers d WHERE d.closed_at IS NOT NULL
"""

RATINGS = """
INSERT INTO ratings (dossier_id, user_id, level, created_at)
SELECT d.id, d.applicant_id,
       CASE WHEN p.u_level < 0.06 THEN 1 WHEN p.u_level < 0.5 THEN 2 ELSE 3 END,
       d.closed_at + interval '1 day'
FROM dossiers d JOIN bench_plan p ON p.id = d.id
WHERE d.status = 10 AND p.u_rate < 0.35 AND d.closed_at + interval '1 day' <= :t0
"""

BIG_TABLES = ("dossiers", "tasks", "dossier_events", "ratings")


def _drop_secondary_indexes(conn: Connection) -> list[str]:
    """Drop the big tables' indexes that back no constraint; returns their definitions to build them again."""
    rows = conn.execute(
        text(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY(:tables)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """
        ),
        {"tables": list(BIG_TABLES)},
    ).all()
    for name, _definition in rows:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _name, definition in rows]


def seed(dossiers: int, t0: datetime, log: Callable[[str], None] = print) -> dict[str, float]:
    """Fill an empty, migrated database (inside an app context). Returns seconds per phase."""
    timings: dict[str, float] = {}

    def phase(name: str, work: Callable[[Connection], object]) -> None:
        started = time.perf_counter()
        conn = db.session.connection()
        conn.execute(text("SET TimeZone TO 'UTC'"))
        conn.execute(text("SET synchronous_commit TO off"))
        conn.execute(text("SET work_mem TO '256MB'"))
        conn.execute(text("SET maintenance_work_mem TO '512MB'"))
        work(conn)
        db.session.commit()
        timings[name] = time.perf_counter() - started
        log(f"  {name}: {timings[name]:.1f} s")

    list(seed_demo())
    db.session.commit()
    phase("agencies, people, procedures", lambda conn: _people_and_places(conn, t0))
    params = {"n": dossiers, "t0": t0, "citizens": CITIZENS, "v2_days": V2_DAYS}
    indexes: list[str] = []

    def plan(conn: Connection) -> None:
        conn.execute(text("SELECT setseed(0.42)"))
        conn.execute(text(PLAN), params)
        conn.execute(text("ALTER TABLE bench_plan ADD PRIMARY KEY (id)"))
        indexes.extend(_drop_secondary_indexes(conn))

    phase("plan", plan)

    def fill(sql: str) -> Callable[[Connection], object]:
        def run(conn: Connection) -> None:
            conn.execute(text("SET session_replication_role TO replica"))  # no FK triggers: rows are consistent
            conn.execute(text(sql), params)
            conn.execute(text("SET session_replication_role TO DEFAULT"))

        return run

    phase("dossiers", fill(DOSSIERS))
    phase("tasks", fill(TASKS))
    phase("timeline", fill(EVENTS))
    phase("ratings", fill(RATINGS))

    def rebuild_indexes(conn: Connection) -> None:
        for definition in indexes:
            conn.execute(text(definition))
        for table in ("users", "dossiers", "tasks", "dossier_events", "ratings"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))  # noqa: S608

    phase("indexes", rebuild_indexes)
    return timings
