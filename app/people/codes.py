"""The person register's code lists, shared by both sides: gender, ethnicity, and how a referral's or
concern's subject was matched to a person record. Wire values are fixed."""

from __future__ import annotations

from enum import StrEnum


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    NOT_KNOWN = "not_known"


class Ethnicity(StrEnum):
    """DfE ethnicity codes, as used by the Children in Need census."""

    WHITE_BRITISH = "WBRI"
    WHITE_IRISH = "WIRI"
    TRAVELLER_OF_IRISH_HERITAGE = "WIRT"
    ANY_OTHER_WHITE = "WOTH"
    GYPSY_ROMA = "WROM"
    WHITE_AND_BLACK_CARIBBEAN = "MWBC"
    WHITE_AND_BLACK_AFRICAN = "MWBA"
    WHITE_AND_ASIAN = "MWAS"
    ANY_OTHER_MIXED = "MOTH"
    INDIAN = "AIND"
    PAKISTANI = "APKN"
    BANGLADESHI = "ABAN"
    ANY_OTHER_ASIAN = "AOTH"
    CARIBBEAN = "BCRB"
    AFRICAN = "BAFR"
    ANY_OTHER_BLACK = "BOTH"
    CHINESE = "CHNE"
    ANY_OTHER_ETHNIC_GROUP = "OOTH"
    REFUSED = "REFU"
    NOT_OBTAINED = "NOBT"


class MatchStatus(StrEnum):
    """How a child or adult named in a referral or concern was matched to a person record."""

    MATCHED = "matched"  # linked automatically: the match was certain
    PENDING = "pending"  # possible matches await a practitioner
    NEW_PERSON = "new_person"  # nobody like this was known: a new record was made
    CONFIRMED = "confirmed"  # a practitioner chose the person
