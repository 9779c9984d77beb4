// How a front end codes against the generated types: if the spec changes a field a screen relies on,
// `make spec-check` fails here instead of in a browser. Type-checked only (tsc --noEmit), never run.
import type { components, operations, paths } from "./generated/mash-api";

type Schemas = components["schemas"];

// A typed referral create body: a typo in a field name or an unknown enum value does not compile.
const newReferral: Schemas["ReferralCreate"] = {
  children: [
    {
      given_name: "Amelia",
      family_name: "Smith-Jones",
      date_of_birth: "2018-03-14",
      nhs_number: "943 476 5919",
      address: { lines: ["12 Forest Road"], postcode: "E17 4UH" },
    },
  ],
  concern_categories: ["domestic_abuse"],
  concern_summary: "Police attended a domestic incident overnight; the child was present.",
  referrer: { name: "PC Dawson", phone: "020 7946 0000" },
  referral_source: "6",
  parental_consent: { informed: true, consented: true },
  external_reference: "PPU-4471", // the police system's own incident number, to find the referral by later
};

// The referrer needs a phone number or an email address: without either, the body does not compile.
// @ts-expect-error neither phone nor email
const noContact: Schemas["ReferrerIn"] = { name: "PC Dawson" };

// Operations are named as a client calls them (operationId): createReferral, getReferral, listReferrals, ...
type CreateReferral = operations["createReferral"];
type CreateReferralBody = NonNullable<CreateReferral["requestBody"]>["content"]["application/json"];
// The same operation, found by its path.
const samePost: paths["/v1/referrals"]["post"] | undefined = undefined as CreateReferral | undefined;
const body: CreateReferralBody = newReferral;

// Reading a referral: the body is one of three views, told apart by `view`.
type ReferralView =
  operations["getReferral"]["responses"][200]["content"]["application/json"];

function describeReferral(referral: ReferralView): string {
  switch (referral.view) {
    case "full":
      return `${referral.status}, decision due ${referral.decision_due_at}, ${referral.children.length} child(ren)`;
    case "referrer":
      return `${referral.status}, rated ${referral.rag_rating ?? "not yet"}`;
    case "asked_agency":
      return `${referral.requests.length} request(s) to answer`;
  }
}

// A problem response (RFC 9457): every error is one of these, with a stable `code`.
type Problem = CreateReferral["responses"][422]["content"]["application/problem+json"];

function explain(problem: Problem): string {
  const fields = (problem.errors ?? []).map((error) => `${error.loc.join(".")}: ${error.msg}`);
  return [`${problem.status} ${problem.code}: ${problem.detail}`, ...fields].join("\n");
}

// Problem codes are one named enumeration: a misspelt code does not compile. These come with Retry-After.
const retryable: ReadonlySet<Schemas["ProblemCode"]> = new Set<Schemas["ProblemCode"]>([
  "rate_limited",
  "service_busy",
  "database_unavailable",
  "idempotency_key_in_progress",
]);

function shouldRetry(problem: Problem): boolean {
  return retryable.has(problem.code);
}

// The change feed's events are typed by their `event_type`, an enumeration too.
type FeedPage = operations["listEvents"]["responses"][200]["content"]["application/json"];

function decisions(page: FeedPage): string[] {
  const decided: Schemas["EventType"] = "referral.decided";
  return page.items.filter((event) => event.event_type === decided).map((event) => event.record_id);
}

// A list page: keep `next_cursor` and pass it back as `cursor` until it is null.
type ListReferrals = operations["listReferrals"];
type ReferralPage = ListReferrals["responses"][200]["content"]["application/json"];
type ListQuery = NonNullable<ListReferrals["parameters"]["query"]>;

async function allReferralIds(fetchPage: (query: ListQuery) => Promise<ReferralPage>): Promise<string[]> {
  const ids: string[] = [];
  let query: ListQuery = { limit: 200, status: ["received"] };
  for (;;) {
    const page = await fetchPage(query);
    ids.push(...page.items.map((summary) => summary.id));
    if (page.next_cursor === null) {
      return ids;
    }
    query = { ...query, cursor: page.next_cursor };
  }
}

// A work queue screen: allocate a referral to a worker and a team, then list "mine" in one request,
// soonest due first; the counts take the same filters.
type AllocateReferral = operations["allocateReferral"];
const allocation: NonNullable<AllocateReferral["requestBody"]>["content"]["application/json"] = {
  worker: "ann.practitioner",
  team: "MASH A",
};
type Allocated = AllocateReferral["responses"][200]["content"]["application/json"];
const myQueue: ListQuery = { allocated_to: "me", sort: "decision_due_at" };
const triage: ListQuery = { allocated_to: "none", overdue: true, rag: ["red", "amber"], sort: "decision_due_at" };
type Counts = operations["countReferrals"]["responses"][200]["content"]["application/json"];

function queueRow(summary: ReferralPage["items"][number], allocated: Allocated | null): string {
  const children = summary.children.map((child) => child.given_name).join(", ");
  const checks = (summary.outstanding_checks ?? []).map((check) => check.agency).join(", ");
  const worker = allocated?.worker ?? summary.allocation?.worker ?? "unallocated";
  return `${summary.external_reference ?? summary.id}: ${children}, due ${summary.decision_due_at}, ${worker}, waiting on ${checks}`;
}

function unallocatedBadge(counts: Counts): string {
  return `${counts.unallocated ?? 0} of ${counts.total} unallocated`;
}

// A partner finds its referral by its own incident number, and a new partner follows the feed from today.
const byIncident: ListQuery = { external_reference: "PPU-4471" };
type FeedQuery = NonNullable<operations["listEvents"]["parameters"]["query"]>;
const fromToday: FeedQuery = { from: "now", mine: true };

export {
  allReferralIds,
  allocation,
  body,
  byIncident,
  decisions,
  describeReferral,
  explain,
  fromToday,
  myQueue,
  noContact,
  queueRow,
  samePost,
  shouldRetry,
  triage,
  unallocatedBadge,
};
