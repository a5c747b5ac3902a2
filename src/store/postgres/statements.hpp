// SPDX-License-Identifier: Apache-2.0
// statements.hpp - the SQL the PostgreSQL store prepares on every connection (internal).
//
// Kept apart from postgres_store.cpp so that the tests can ask the server how it plans them
// (tests/postgres: no statement of the hot paths may scan a whole table).
#pragma once

#include <string_view>

namespace acm::pg {

/// Prepared on every connection when it opens.
struct Statement {
  const char* name;
  const char* sql;
};
inline constexpr Statement kStatements[] = {
    {"ins_case",
     "INSERT INTO cases(id, version, type, type_version, status, owner, priority, customer, title, next_due, "
     "next_deadline, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"},
    {"upd_case",
     "WITH u AS (UPDATE cases SET version = $2, type = $3, type_version = $4, status = $5, owner = $6, priority = $7, "
     "customer = $8, title = $9, next_due = $10, next_deadline = $11, updated_at = $12, feed_x = "
     "GREATEST(pg_current_xact_id(), feed_x) WHERE id = $1 AND version = $13 "
     "RETURNING 1) SELECT CASE WHEN EXISTS (SELECT 1 FROM u) THEN 0 ELSE acm_version_conflict($1, $13) END"},
    // The same with the commit's first event written by the same statement (one statement
    // fewer per commit; the event takes the row's new feed_x from RETURNING). $14..$18: the
    // event's seq, time, actor, kind, payload.
    {"ins_case_ev",
     "WITH u AS (INSERT INTO cases(id, version, type, type_version, status, owner, priority, customer, title, "
     "next_due, next_deadline, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
     "$13) RETURNING feed_x) INSERT INTO events(case_id, seq, time, actor, kind, payload, feed_x) SELECT $1, "
     "$14::bigint, $15::bigint, $16::text, $17::text, $18::text, u.feed_x FROM u"},
    {"upd_case_ev",
     "WITH u AS (UPDATE cases SET version = $2, type = $3, type_version = $4, status = $5, owner = $6, priority = $7, "
     "customer = $8, title = $9, next_due = $10, next_deadline = $11, updated_at = $12, feed_x = "
     "GREATEST(pg_current_xact_id(), feed_x) WHERE id = $1 AND version = $13 RETURNING feed_x), "
     "i AS (INSERT INTO events(case_id, seq, time, actor, kind, payload, feed_x) SELECT $1, $14::bigint, "
     "$15::bigint, $16::text, $17::text, $18::text, u.feed_x FROM u) "
     "SELECT CASE WHEN EXISTS (SELECT 1 FROM u) THEN 0 ELSE acm_version_conflict($1, $13) END"},
    // The same with all of a commit's events, two or more, written by the one statement: one
    // statement per case commit whatever its number of events (the server's cost per statement
    // and a look-up of the case row's feed_x per further event saved). $14..$18: arrays (sent in
    // binary format) of the events' seq, time, actor, kind, payload, in seq order.
    {"ins_case_evs",
     "WITH u AS (INSERT INTO cases(id, version, type, type_version, status, owner, priority, customer, title, "
     "next_due, next_deadline, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
     "$13) RETURNING feed_x) INSERT INTO events(case_id, seq, time, actor, kind, payload, feed_x) SELECT $1, e.seq, "
     "e.time, e.actor, e.kind, e.payload, u.feed_x FROM u, unnest($14::bigint[], $15::bigint[], $16::text[], "
     "$17::text[], $18::text[]) AS e(seq, time, actor, kind, payload)"},
    {"upd_case_evs",
     "WITH u AS (UPDATE cases SET version = $2, type = $3, type_version = $4, status = $5, owner = $6, priority = $7, "
     "customer = $8, title = $9, next_due = $10, next_deadline = $11, updated_at = $12, feed_x = "
     "GREATEST(pg_current_xact_id(), feed_x) WHERE id = $1 AND version = $13 RETURNING feed_x), "
     "i AS (INSERT INTO events(case_id, seq, time, actor, kind, payload, feed_x) SELECT $1, e.seq, e.time, e.actor, "
     "e.kind, e.payload, u.feed_x FROM u, unnest($14::bigint[], $15::bigint[], $16::text[], $17::text[], "
     "$18::text[]) AS e(seq, time, actor, kind, payload)) "
     "SELECT CASE WHEN EXISTS (SELECT 1 FROM u) THEN 0 ELSE acm_version_conflict($1, $13) END"},
    {"del_work", "DELETE FROM work_items WHERE case_id = $1"},
    {"ins_work",
     "INSERT INTO work_items(case_id, item_id, name, state, assignee, role, skills, due, priority, case_title, "
     "customer, goal, goal_deadline, goal_timing) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
     "$14)"},
    {"put_snapshot",
     "INSERT INTO snapshots(case_id, version, data) VALUES ($1, $2, $3) ON CONFLICT (case_id) DO UPDATE SET "
     "version = excluded.version, data = excluded.data"},
    {"ins_key", "INSERT INTO idempotency(key, case_id, result, created_at) VALUES ($1, $2, $3, $4)"},
    {"begin_rr", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
    {"begin", "BEGIN"},
    {"commit", "COMMIT"},
    {"case_row",
     "SELECT c.id, c.version, c.type, c.type_version, c.status, c.owner, c.priority, c.customer, c.title, c.next_due, "
     "c.next_deadline, c.created_at, c.updated_at, s.version, s.data FROM cases c LEFT JOIN snapshots s ON s.case_id = "
     "c.id WHERE c.id = $1"},
    {"case_events",
     "SELECT case_id, seq, time, actor, kind, payload FROM events WHERE case_id = $1 AND seq > COALESCE((SELECT "
     "version FROM snapshots WHERE case_id = $1), 0) ORDER BY seq"},
    // A chunk of cases (load_cases), read in two statements of one round trip. Both look each
    // id up on its own (a lateral subquery per id, kept apart by OFFSET 0) and leave the order
    // to the client: as joins ("events JOIN cases ... WHERE cases.id = ANY($1)", "cases WHERE
    // id = ANY($1)") the server planned sequential scans of whole tables once the chunk was a
    // few percent of them: every chunk of run_due read every case, or every event (21.7 ms a
    // chunk of 512 at 100,000 events). A DISTINCT, a hash join and a final sort cost as much
    // again as the lookups (2.8 ms against 1.5 ms for 512 cases of 5 events; the rows 2.0 ms
    // against 0.9 ms). Test "claiming and loading a chunk of cases go through the indexes".
    // $1: distinct ids.
    {"cases_rows",
     "SELECT c.id, c.version, c.type, c.type_version, c.status, c.owner, c.priority, c.customer, c.title, c.next_due, "
     "c.next_deadline, c.created_at, c.updated_at, s.version, s.data FROM unnest($1::text[]) AS u(id) CROSS JOIN "
     "LATERAL (SELECT * FROM cases x WHERE x.id = u.id OFFSET 0) c LEFT JOIN snapshots s ON s.case_id = c.id"},
    // Each case's events after its snapshot (any order of rows: the client sorts).
    {"cases_events",
     "SELECT e.case_id, e.seq, e.time, e.actor, e.kind, e.payload FROM unnest($1::text[]) AS u(id) CROSS JOIN LATERAL "
     "(SELECT x.case_id, x.seq, x.time, x.actor, x.kind, x.payload FROM events x WHERE x.case_id = u.id AND x.seq > "
     "COALESCE((SELECT version FROM snapshots WHERE case_id = u.id), 0) OFFSET 0) e"},
    {"events_from",
     "SELECT case_id, seq, time, actor, kind, payload FROM events WHERE case_id = $1 AND seq >= $2 ORDER BY seq"},
    {"due_keys",
     "SELECT next_due, id FROM cases WHERE next_due IS NOT NULL AND next_due <= $1 AND (next_due, id) > ($2, $3) "
     "ORDER BY next_due, id LIMIT $4"},
    // The next `limit` due cases that no other process holds, locked, straight from the due
    // index: locked rows are skipped before the LIMIT counts, so a process behind another
    // still claims a full chunk. (Written before as "id IN (the next `limit` due keys)", the
    // server planned a sequential scan of every case per chunk, and a process behind another
    // walked chunk after chunk of keys the other held, claiming nothing.) A claim never waits
    // for a lock (SKIP LOCKED), so claims cannot deadlock with each other or with commands.
    {"claim",
     "SELECT id, version, next_due FROM cases WHERE next_due IS NOT NULL AND next_due <= $1 AND (next_due, id) > ($2, "
     "$3) ORDER BY next_due, id LIMIT $4 FOR UPDATE SKIP LOCKED"},
    // The newest position read_feed can return now: the feed index read backwards.
    {"feed_end",
     "SELECT e.feed_x::text AS position_x, e.seq, e.case_id FROM events e WHERE e.feed_x < "
     "pg_snapshot_xmin(pg_current_snapshot()) ORDER BY e.feed_x DESC, e.case_id DESC, e.seq DESC LIMIT 1"},
    {"feed",
     // ORDER BY names the table's column: a bare "feed_x" would be the output column
     // feed_x::text, sorted as text ("10000" < "9999").
     "SELECT e.feed_x::text AS position_x, e.case_id, e.seq, e.time, e.actor, e.kind, e.payload FROM events e WHERE "
     "(e.feed_x, e.case_id, e.seq) > ($1::xid8, $2, $3) AND e.feed_x < pg_snapshot_xmin(pg_current_snapshot()) "
     "ORDER BY e.feed_x, e.case_id, e.seq LIMIT $4"},
};

/// The statement named `name`, or nullptr.
inline const char* statement_sql(std::string_view name) {
  for (const auto& s : kStatements)
    if (name == s.name) return s.sql;
  return nullptr;
}

}  // namespace acm::pg
