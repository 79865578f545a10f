/**
 * Schedules: the weekday and inclusive HH:MM bounds in the schedule's IANA zone
 * ("" = UTC), any schedule of several, and clear errors for bad zones and times.
 */
import assert from "node:assert/strict";
import { inAnySchedule, inSchedule, ScheduleError } from "../../src/rules/schedule.ts";
import type { RuleSchedule } from "../../src/core/types.ts";

const FRIDAY_NIGHT: RuleSchedule = {
  timezone: "",
  shifts: [{ weekday: "Friday", start: "00:00", end: "09:00" }],
};
const at = (iso: string) => new Date(iso);

Deno.test("start and end minutes are inside; a millisecond past the end is outside (UTC)", () => {
  // 2025-06-06 is a Friday.
  assert.equal(inSchedule(at("2025-06-06T00:00:00.000Z"), FRIDAY_NIGHT), true);
  assert.equal(inSchedule(at("2025-06-06T09:00:00.000Z"), FRIDAY_NIGHT), true);
  assert.equal(inSchedule(at("2025-06-06T09:00:00.001Z"), FRIDAY_NIGHT), false);
  assert.equal(inSchedule(at("2025-06-06T09:00:30Z"), FRIDAY_NIGHT), false);
  assert.equal(inSchedule(at("2025-06-06T09:01:00Z"), FRIDAY_NIGHT), false);
  assert.equal(inSchedule(at("2025-06-05T23:59:59.999Z"), FRIDAY_NIGHT), false);
});

Deno.test("a shift with a later start excludes the minute before it", () => {
  const schedule = { timezone: "UTC", shifts: [{ weekday: "Friday", start: "12:30", end: "13:00" }] };
  assert.equal(inSchedule(at("2025-06-06T12:29:59Z"), schedule), false);
  assert.equal(inSchedule(at("2025-06-06T12:30:00Z"), schedule), true);
});

Deno.test("the weekday and the bounds are taken in the schedule's time zone", () => {
  const tokyo = { timezone: "Asia/Tokyo", shifts: [{ weekday: "Saturday", start: "08:00", end: "09:00" }] };
  // Friday 23:00 UTC is Saturday 08:00 in Tokyo (UTC+9).
  assert.equal(inSchedule(at("2025-06-06T23:00:00Z"), tokyo), true);
  assert.equal(inSchedule(at("2025-06-07T00:00:00Z"), tokyo), true);
  assert.equal(inSchedule(at("2025-06-07T00:00:01Z"), tokyo), false);
  assert.equal(inSchedule(at("2025-06-07T23:00:00Z"), tokyo), false, "Sunday in Tokyo");
  // Daylight saving time: 08:00 in New York is 12:00 UTC in June, 13:00 UTC in January.
  const ny = { timezone: "America/New_York", shifts: [{ weekday: "Friday", start: "08:00", end: "08:00" }] };
  assert.equal(inSchedule(at("2025-06-06T12:00:00Z"), ny), true);
  assert.equal(inSchedule(at("2025-01-03T13:00:00Z"), ny), true);
  assert.equal(inSchedule(at("2025-01-03T12:00:00Z"), ny), false);
});

Deno.test("a rule is in schedule when it has none, or when any of its schedules matches", () => {
  const monday = { timezone: "", shifts: [{ weekday: "Monday", start: "00:00", end: "23:59" }] };
  const friday = at("2025-06-06T08:00:00Z");
  assert.equal(inAnySchedule(friday, {}), true);
  assert.equal(inAnySchedule(friday, { monday }), false);
  assert.equal(inAnySchedule(friday, { monday, night: FRIDAY_NIGHT }), true);
  assert.equal(inSchedule(friday, { timezone: "", shifts: [] }), false);
});

Deno.test("an unknown zone, a malformed time or weekday is an error naming it", () => {
  const friday = at("2025-06-06T08:00:00Z");
  const cases: Array<[RuleSchedule, RegExp]> = [
    [{ timezone: "Mars/Olympus", shifts: FRIDAY_NIGHT.shifts }, /unknown time zone "Mars\/Olympus"/],
    [{ timezone: "", shifts: [{ weekday: "Friday", start: "9:00", end: "10:00" }] }, /invalid time "9:00"/],
    [{ timezone: "", shifts: [{ weekday: "Friday", start: "09:00", end: "24:00" }] }, /invalid time "24:00"/],
    [
      { timezone: "", shifts: [{ weekday: "friday", start: "09:00", end: "10:00" }] },
      /invalid weekday "friday"/,
    ],
  ];
  for (const [schedule, message] of cases) {
    assert.throws(() => inSchedule(friday, schedule), (error: unknown) => {
      assert.ok(error instanceof ScheduleError);
      assert.match(error.message, message);
      return true;
    });
  }
});
