/** What a released claim holds, shared by the mapping contract and the legacy-protocol contract. */

/** A released claim value. Arrays are lists of codes (e.g. a mandate's scope). */
export type ClaimValue = string | number | boolean | readonly string[];
