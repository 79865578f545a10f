/** Reading the request's system annotations that route a request. */
import type { AccessRequest } from "./types.ts";

export type AnnotationList = { ok: true; values: string[] } | { ok: false; why: string };

/** Notify targets in the order given (the first keeps the Go plugin's keys), duplicates removed. */
export function notifyTargets(request: AccessRequest, key: string): AnnotationList {
  return readList(request, key, (values) => [...new Set(values)]);
}

/** Approval targets, sorted and de-duplicated as the Go plugin does. */
export function approvalTargets(request: AccessRequest, key: string): AnnotationList {
  return readList(request, key, (values) => [...new Set(values)].sort());
}

function readList(request: AccessRequest, key: string, shape: (v: string[]) => string[]): AnnotationList {
  const raw = request.systemAnnotations[key];
  if (raw === undefined) return { ok: false, why: `request annotation ${key} is missing` };
  const values = raw.map((v) => v.trim()).filter((v) => v !== "");
  if (values.length === 0) return { ok: false, why: `request annotation ${key} is present but empty` };
  return { ok: true, values: shape(values) };
}
