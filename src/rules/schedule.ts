/**
 * Rule schedules (Teleport 18.2.8+): a rule with schedules applies only when the
 * request's creation time falls in a shift of at least one of them. A shift is a
 * weekday and "HH:MM" bounds in the schedule's IANA time zone ("" = UTC), both
 * inclusive at the instant: with end "09:00", 09:00:00.000 is in, 09:00:00.001 is
 * out (Teleport compares with !before(start) && !after(end)).
 */
import type { RuleSchedule } from "../core/types.ts";

/** A schedule that cannot be applied (unknown zone, malformed time or weekday). */
export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

interface WallClock {
  weekday: string;
  /** Minutes since local midnight. */
  minute: number;
  /** True when the instant is exactly on a minute (no seconds or milliseconds). */
  onMinute: boolean;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone,
        weekday: "long",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      throw new ScheduleError(`unknown time zone "${timeZone}"`);
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The weekday and time of day of `instant` in `timeZone`. */
export function wallClock(instant: Date, timeZone: string): WallClock {
  const parts = formatterFor(timeZone || "UTC").formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  const second = Number(part("second"));
  return {
    weekday: part("weekday"),
    minute: Number(part("hour")) * 60 + Number(part("minute")),
    onMinute: second === 0 && instant.getUTCMilliseconds() === 0,
  };
}

/** "HH:MM" (Go's "15:04") as minutes since midnight. */
export function parseClock(text: string): number {
  const ok = text.length === 5 && text[2] === ":" &&
    [0, 1, 3, 4].every((i) => text[i] >= "0" && text[i] <= "9");
  const hours = Number(text.slice(0, 2));
  const minutes = Number(text.slice(3));
  if (!ok || hours > 23 || minutes > 59) throw new ScheduleError(`invalid time "${text}", expected HH:MM`);
  return hours * 60 + minutes;
}

/** True when `instant` falls in one of the schedule's shifts. */
export function inSchedule(instant: Date, schedule: RuleSchedule): boolean {
  if (schedule.shifts.length === 0) return false;
  const clock = wallClock(instant, schedule.timezone);
  for (const shift of schedule.shifts) {
    if (!WEEKDAYS.includes(shift.weekday)) throw new ScheduleError(`invalid weekday "${shift.weekday}"`);
    if (shift.weekday !== clock.weekday) continue;
    const start = parseClock(shift.start);
    const end = parseClock(shift.end);
    const afterStart = clock.minute >= start;
    const beforeEnd = clock.minute < end || (clock.minute === end && clock.onMinute);
    if (afterStart && beforeEnd) return true;
  }
  return false;
}

/** True when the rule has no schedules or `instant` falls in any of them. */
export function inAnySchedule(instant: Date, schedules: Record<string, RuleSchedule>): boolean {
  const all = Object.values(schedules);
  return all.length === 0 || all.some((schedule) => inSchedule(instant, schedule));
}
