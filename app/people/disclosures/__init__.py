"""The disclosure log: every time information about a person leaves the agency that holds it.

Parents may challenge why information about their child was shared, and anyone may ask the council
to whom it disclosed their data (UK GDPR Art 15(1)(c)). So each disclosure is written down with
what was given (record type and id, the person), to whom (an agency, or the data subject), why (a
purpose code), on what basis (UK GDPR Art 6 basis and, where special category data, the Art 9
condition), when, and by whom (the principal whose request made it).

When a row is written (``app.people.disclosures.service``), precisely:

* **Contribution request** (``trigger=contribution_request``): the hub names the referral's children
  to each asked agency — one row per child per asked agency. The basis is the referral's: the
  parents' consent (``uk_gdpr_6_1_a_consent``) or the manager's consent override (its Art 6 basis
  and Art 9 condition); agencies are never asked without one of the two.
* **Read** (``trigger=read``): a partner agency opens a single record that shows it information
  recorded by another agency:
    - a referral, in the asked agency's view (the children named by the referrer), or in the
      referring agency's view or timeline once the hub has acted on it (status past ``received``:
      rating, outcome, withdrawal are the hub's, not the referrer's);
    - a contribution request addressed to the agency (the children and the hub's question);
    - an adult concern, in the raising agency's view once adult social care has acted on it;
    - a safeguarding plan, by an agency that owns an action in it;
    - an enquiry, by the agency leading it or the agency it was caused to, when that is not adult
      social care.
  Reads by the lead agencies (children's social care of children's records, adult social care of
  adults') are not disclosures: the records are theirs. Lists, the contributions inbox and the
  change feed are audited but not logged here: partner systems poll them, and every record they
  show was disclosed when it was requested or opened.
* **Document** (``trigger=read``, ``purpose=case_document``): an agency downloads a document another
  agency uploaded (api.md "Documents"): one row per person the parent record concerns (a referral's
  or a contribution's children, a concern's or an enquiry's adult), record type ``<parent>_document``.
* **Export** (``trigger=export``): a subject access export, given to the data subject (or the
  representative named on the request), on the legal obligation of Art 15.

A child or adult whose match to a person record is still pending is named by their row on the
referral or the concern, so the disclosure joins the person's log as soon as the match is made.
"""
