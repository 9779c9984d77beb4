"""Seeded synthetic UK child records and messy re-referrals of them, with ground truth.

The population is built household by household: a cultural naming group, a family name (a few
double-barrelled), an address clustered in a few postcode areas, one to five children with sibling
spacing and twins, and now and then an unborn child with an expected date of birth. Name frequencies
are deliberately more skewed than real ones (the most common given name ~3% of a sex, the most common
family name ~2%) so that many different children share names, which is what makes matching hard.

Queries are either re-referrals of someone in the population, with the errors partner agencies
really make (typos, transposed day and month, nicknames, hyphen changes, missing NHS numbers, a
family that moved), or children who are NOT in the population but look like someone who is: an
unrecorded sibling or twin, a namesake, a namesake born the same day elsewhere, a parent with the
child's name, a new pregnancy in a known household, or simply a new child.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import accumulate

from app.people.matching import (
    Identity,
    canonical_given_name,
    given_name_roots,
    nhs_check_digit,
    normalise_name,
)
from app.people.nicknames import DIMINUTIVES, SPELLING_VARIANTS

REFERENCE_DATE = date(2025, 6, 1)  # "today" for the synthetic data, fixed so runs are reproducible


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ---- names -------------------------------------------------------------------------------------

BRITISH_BOYS = words(
    "Oliver George Harry Noah Jack Leo Arthur Oscar Charlie Jacob Thomas Henry William Alfie Theo "
    "Freddie Archie Joshua James Ethan Isaac Alexander Joseph Edward Samuel Max Logan Lucas Mason "
    "Daniel Adam Sebastian Finley Harrison Dylan Riley Benjamin Jaxon Arlo Teddy Reuben Tommy Albie "
    "Hugo Toby Louie Elijah Jude Rory Ronnie Frankie Jenson Elliot Ezra Luca Reggie Jayden Finn "
    "Ollie Ellis Tyler Louis Kai Caleb Ryan Liam Nathan Matthew Aaron Harvey Bobby Zachary Stanley "
    "Michael David Lewis Jake Kyle Connor Callum Ben Luke Jamie Bradley Kieran Jordan Owen Alex "
    "Billy Sonny Frederick Alfred Theodore Charles Robert Christopher Patrick Sam Kian Brandon "
    "Cameron Rhys Aiden Jasper Felix Austin Grayson Harley Jenson Nathaniel Gabriel Dominic Lincoln"
)
BRITISH_GIRLS = words(
    "Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy "
    "Sienna Poppy Elsie Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Millie Matilda Maya "
    "Sophie Alice Emilia Isabelle Ruby Luna Maisie Aria Penelope Mila Bonnie Eva Hallie Eliza Ada "
    "Violet Esme Arabella Imogen Jessica Delilah Layla Thea Chloe Scarlett Lucy Holly Ellie Amber "
    "Lola Megan Hannah Jasmine Erin Zara Hollie Leah Lacey Summer Eleanor Nevaeh Abigail Molly "
    "Lottie Tilly Elizabeth Katie Libby Georgia Harriet Rebecca Lauren Bethany Courtney Niamh "
    "Caitlin Paige Jade Kayla Madison Skye Darcy Ellis Robyn Beth Megan Naomi Victoria Maddison "
    "Heidi Orla Aurora Iris Ivy Margot Nancy Edith Rose Beatrice Clara Alexandra Samantha"
)
BRITISH_SURNAMES = words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
    "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Jackson Wood Turner Martin "
    "Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips "
    "Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey "
    "Collins Bell Shaw Murphy Miller Cox Richards Marshall Anderson Simpson Ellis Adams Wilkinson "
    "Foster Chapman Powell Webb Rogers Gray Mason Hunt Campbell Matthews Owen Palmer Holmes Mills "
    "Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham "
    "Pearson Fletcher Walsh Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford "
    "Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Dawson Ball Burton O'Brien Watts "
    "Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett "
    "Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland "
    "Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Dean Lane "
    "Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long "
    "Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins "
    "O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler "
    "Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson Rowe Burke May Pritchard "
    "Gilbert Willis Higgins Read Mackenzie MacDonald Fitzgerald Doherty Gallagher Quinn Lynch"
)
SURNAME_STEMS = words(
    "Ash Black Brad Brook Bur Car Chad Clay Crom Dal Dun Eld Farn Gold Green Hal Hart Hay Holl "
    "Kirk Lang Lind Mar Mil Nor Oak Pen Rad Red Ring Rock Roth Sal Shel Stan Stock Sud Thorn Wal "
    "War Wes Whit Wick Win Wool Ald Barn Bram Cald Cran Dart Fair Grim Hol Kings Lock Mort Pres"
)
SURNAME_ENDINGS = words(
    "worth ley ton field ford well by man shaw wood ham hurst cliffe bury son wick dale more "
    "stead thorpe combe burn sby ridge land"
)

SOUTH_ASIAN_BOYS = words(
    "Muhammad Muhammad Muhammad Mohammed Ayaan Ibrahim Yusuf Zayn Adam Ali Hamza Musa Omar Aryan "
    "Arjun Rayyan Zakariya Ismail Ahmed Hassan Hussain Abdullah Haris Zain Bilal Imran Aarav Dev "
    "Krish Rohan Harjot Gurveer Ayan Arham Shayan Mustafa Idris Yahya Hamzah Umar Sami Rehan"
)
SOUTH_ASIAN_GIRLS = words(
    "Aisha Maryam Fatima Zainab Hafsa Amira Inaaya Anaya Zara Khadija Sara Hana Ayesha Eshal Noor "
    "Aleena Safa Sana Alisha Anya Priya Simran Jasleen Harleen Amelia Mariam Iqra Laiba Mehak Ruqayyah "
    "Sofia Aliyah Hania Manha Ayat Zoya Areeba Mahnoor Hira Fatimah"
)
SOUTH_ASIAN_SURNAMES = words(
    "Khan Khan Khan Ali Ali Hussain Hussain Ahmed Ahmed Begum Patel Patel Shah Singh Singh Kaur Akhtar "
    "Iqbal Mahmood Rahman Islam Uddin Miah Bibi Malik Butt Chaudhry Qureshi Sharma Mistry Chauhan "
    "Gill Sandhu Sheikh Siddiqui Mirza Rashid Aziz Hassan Haque Karim Javed Anwar Riaz Nawaz Sadiq"
)

EAST_EUROPEAN_BOYS = words(
    "Jakub Oliwier Szymon Filip Kacper Antoni Jan Aleksander Mikolaj Wojciech Adam Michal Igor "
    "Nikola Luca Matei David Andrei Lukas Dominik Patryk Bartosz Oskar Tymon Stefan"
)
EAST_EUROPEAN_GIRLS = words(
    "Zuzanna Julia Maja Zofia Hanna Lena Alicja Oliwia Amelia Natalia Wiktoria Emilia Maria Ioana "
    "Sofia Ana Daria Gabriela Karolina Nikola Marta Laura Weronika Antonina Milena"
)
EAST_EUROPEAN_SURNAMES = words(
    "Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Lewandowski Zielinski Szymanski Wozniak "
    "Dabrowski Kozlowski Jankowski Mazur Popescu Ionescu Popa Pop Radu Kazlauskas Petrov Horvath "
    "Nagy Novak Dvorak Stan Dumitru Balan Ivanov Jablonski"
)

AFRICAN_CARIBBEAN_BOYS = words(
    "Jayden Tyrese Malachi Elijah Josiah Daniel David Samuel Joshua Nathaniel Isaiah Jeremiah "
    "Emmanuel Kwame Kofi Tobi Femi Chidi Abdi Mohamed Ayub Zion Jaden Marcus Andre Kairo Micah Ezekiel"
)
AFRICAN_CARIBBEAN_GIRLS = words(
    "Amara Nia Precious Blessing Favour Zion Chloe Aaliyah Imani Nevaeh Princess Esther Grace Deborah "
    "Abena Ama Adaeze Chioma Ifeoma Hodan Ayan Hibo Maryan Kiara Jada Tiana Anaya Sade Zuri"
)
AFRICAN_CARIBBEAN_SURNAMES = words(
    "Okafor Adeyemi Mensah Osei Owusu Boateng Asante Adebayo Okonkwo Eze Nwachukwu Campbell Brown "
    "Williams Francis Thomas Grant Clarke Johnson Mohamed Abdi Hassan Ali Warsame Farah Omar Yusuf "
    "Ogunleye Bello Afolabi Danso Appiah Agyeman Reid Samuels Gayle Henry"
)

TWIN_NAME_PAIRS = (
    ("Alfie", "Freddie"),
    ("Daisy", "Maisie"),
    ("Lily", "Lola"),
    ("Harry", "Harvey"),
    ("Mason", "Jason"),
    ("Jack", "Zack"),
    ("Ruby", "Rosie"),
    ("Isla", "Ivy"),
    ("Mia", "Maya"),
    ("Aiden", "Jayden"),
    ("Hassan", "Hussain"),
    ("Ella", "Ellie"),
    ("Ronnie", "Reggie"),
    ("Tommy", "Teddy"),
    ("Amelia", "Emilia"),
    ("Evie", "Eva"),
    ("Millie", "Mollie"),
)
# boy and girl twins
MIXED_TWIN_NAME_PAIRS = (
    ("Oliver", "Olivia"),
    ("Charlie", "Charlotte"),
    ("Louis", "Louisa"),
    ("Harry", "Harriet"),
)


@dataclass(frozen=True)
class NameGroup:
    name: str
    share: float
    boys: tuple[str, ...]
    girls: tuple[str, ...]
    surnames: tuple[str, ...]


GROUPS = (
    NameGroup("british", 0.76, BRITISH_BOYS, BRITISH_GIRLS, BRITISH_SURNAMES),
    NameGroup("south_asian", 0.11, SOUTH_ASIAN_BOYS, SOUTH_ASIAN_GIRLS, SOUTH_ASIAN_SURNAMES),
    NameGroup("east_european", 0.06, EAST_EUROPEAN_BOYS, EAST_EUROPEAN_GIRLS, EAST_EUROPEAN_SURNAMES),
    NameGroup(
        "african_caribbean",
        0.07,
        AFRICAN_CARIBBEAN_BOYS,
        AFRICAN_CARIBBEAN_GIRLS,
        AFRICAN_CARIBBEAN_SURNAMES,
    ),
)

POSTCODE_AREAS = ("LS", "BD", "WF", "HX")
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
KEYBOARD_NEIGHBOURS = {
    "a": "qwsz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
}


def related_names(a: str, b: str) -> bool:
    """Parents do not give siblings the same name, or a name and its own nickname (Sam, Samuel)."""
    na, nb = normalise_name(a), normalise_name(b)
    ca, cb = canonical_given_name(na), canonical_given_name(nb)
    return ca == cb or ca in given_name_roots(nb) or cb in given_name_roots(na)


class Weighted:
    """Draws from a list with weights 1 / (rank + offset): a Zipf-like skew with a flatter head."""

    def __init__(self, items: Sequence[str], offset: float) -> None:
        self.items = list(items)
        self.cumulative = list(accumulate(1.0 / (rank + offset) for rank in range(1, len(items) + 1)))

    def draw(self, rng: random.Random) -> str:
        return self.items[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# ---- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    household: int
    identity: Identity


@dataclass(frozen=True)
class Query:
    identity: Identity
    truth: int | None  # the person id in the population, or None for a child not in it
    kind: str  # "rereferral" or the kind of look-alike new child
    errors: tuple[str, ...]  # the errors applied to a re-referral


@dataclass
class Household:
    id: int
    group: NameGroup
    surname: str
    postcode: str
    members: list[int]


class Generator:
    def __init__(self, seed: int, population_size: int) -> None:
        self.rng = random.Random(seed)
        self.size = population_size
        self.groups = {
            group.name: (
                Weighted(group.boys, 10),
                Weighted(group.girls, 10),
                Weighted(group.surnames, 5) if group.name == "british" else Weighted(group.surnames, 3),
            )
            for group in GROUPS
        }
        # a long tail of rarer British surnames, like the half of real people outside the top names
        self.rare_surnames = [stem + ending for stem in SURNAME_STEMS for ending in SURNAME_ENDINGS]
        self.used_nhs: set[str] = set()
        households = max(population_size // 2, 1)
        self.units = self._make_units(max(households // 6, 50))
        self.units_by_district: dict[str, list[tuple[str, str]]] = {}
        for unit in self.units:
            self.units_by_district.setdefault(unit[0], []).append(unit)

    # -- building blocks

    def _make_units(self, count: int) -> list[tuple[str, str]]:
        districts = [f"{area}{number}" for area in POSTCODE_AREAS for number in range(1, 30)]
        units: set[tuple[str, str]] = set()
        while len(units) < count:
            district = districts[min(int(self.rng.expovariate(1 / 25)), len(districts) - 1)]
            inward = f"{self.rng.randint(1, 9)}{self.rng.choice(UNIT_LETTERS)}{self.rng.choice(UNIT_LETTERS)}"
            units.add((district, inward))
        return sorted(units)

    def postcode(self, near: str | None = None) -> str:
        if near is not None and self.rng.random() < 0.5:
            candidates = self.units_by_district.get(near.split()[0], [])
            if candidates:
                unit = self.rng.choice(candidates)
                return f"{unit[0]} {unit[1]}"
        unit = self.units[self.rng.randrange(len(self.units))]
        return f"{unit[0]} {unit[1]}"

    def nhs_number(self) -> str:
        while True:
            first = str(self.rng.choice((4, 6, 7))) + "".join(str(self.rng.randrange(10)) for _ in range(8))
            check = nhs_check_digit(first)
            if check is not None and (number := f"{first}{check}") not in self.used_nhs:
                self.used_nhs.add(number)
                return number

    def group(self) -> NameGroup:
        roll = self.rng.random()
        for group in GROUPS:
            roll -= group.share
            if roll < 0:
                return group
        return GROUPS[0]

    def surname(self, group: NameGroup) -> str:
        if group.name == "british" and self.rng.random() < 0.45:
            return self.rng.choice(self.rare_surnames)
        name = self.groups[group.name][2].draw(self.rng)
        if self.rng.random() < 0.04:  # double-barrelled
            other = self.groups[group.name][2].draw(self.rng)
            if other != name:
                name = f"{name}-{other}"
        return name

    def given(self, group: NameGroup, gender: str, avoid: set[str]) -> str:
        boys, girls, _ = self.groups[group.name]
        source = boys if gender == "male" else girls
        for _ in range(20):
            name = source.draw(self.rng)
            if not any(related_names(name, other) for other in avoid):
                return name
        return name

    def birth_date(self) -> date:
        return REFERENCE_DATE - timedelta(days=self.rng.randrange(18 * 365))

    # -- population

    def population(self) -> tuple[list[Person], list[Household]]:
        people: list[Person] = []
        households: list[Household] = []
        while len(people) < self.size:
            group = self.group()
            household = Household(len(households), group, self.surname(group), self.postcode(), [])
            households.append(household)
            children = self.rng.choices((1, 2, 3, 4, 5), weights=(40, 35, 16, 6, 3))[0]
            when = self.birth_date()
            names: set[str] = set()
            births = 0
            while births < children and len(people) < self.size:
                twins = self.rng.random() < 0.03
                twin_name, twin_gender = "", ""
                for index in range(2 if twins else 1):
                    gender = self.rng.choice(("male", "female"))
                    name = self.given(group, gender, names)
                    if twins and index == 0 and self.rng.random() < 0.3:
                        # twins with look-alike names: two boys, two girls, or boy and girl
                        mixed = self.rng.random() < 0.3
                        pair = self.rng.choice(MIXED_TWIN_NAME_PAIRS if mixed else TWIN_NAME_PAIRS)
                        name, twin_name = pair
                        gender = "male" if mixed else self.rng.choice(("male", "female"))
                        twin_gender = "female" if mixed else gender
                    if twins and index == 1 and twin_name:
                        name, gender = twin_name, twin_gender
                    names.add(name)
                    people.append(self._child(household, name, gender, when))
                    births += 1
                when = when + timedelta(days=self.rng.randint(330, 6 * 365))
                if when > REFERENCE_DATE:
                    break
            if self.rng.random() < 0.015 and len(people) < self.size:
                people.append(self._unborn(household))
        return people, households

    def _child(self, household: Household, given: str, gender: str, when: date) -> Person:
        surname = household.surname
        if household.members and self.rng.random() < 0.08:  # half-sibling with another surname
            surname = self.surname(household.group)
        identity = Identity(
            given_name=given,
            family_name=surname,
            date_of_birth=when,
            nhs_number=self.nhs_number() if self.rng.random() < 0.8 else None,
            postcode=household.postcode,
            gender=gender if self.rng.random() < 0.98 else None,
        )
        return self._add(household, identity)

    def _unborn(self, household: Household) -> Person:
        expected = REFERENCE_DATE + timedelta(days=self.rng.randint(-30, 240))
        identity = Identity(
            given_name=self.rng.choice((None, None, "Baby", "Unborn")),
            family_name=household.surname,
            expected_date_of_birth=expected,
            postcode=household.postcode,
        )
        return self._add(household, identity)

    def _add(self, household: Household, identity: Identity) -> Person:
        person = Person(id=self._next_id(), household=household.id, identity=identity)
        household.members.append(person.id)
        return person

    _counter = 0

    def _next_id(self) -> int:
        self._counter += 1
        return self._counter


# ---- errors -------------------------------------------------------------------------------------

_VARIANTS = {name: group for group in SPELLING_VARIANTS for name in group}
_NICKNAMES: dict[str, list[str]] = {}
for _root, _short in DIMINUTIVES.items():
    _NICKNAMES.setdefault(_root, []).extend(_short)
    for _name in _short:
        _NICKNAMES.setdefault(_name, []).append(_root)


def typo(rng: random.Random, name: str) -> str:
    letters = list(name)
    if len(letters) < 3:
        return name + name[-1]
    i = rng.randrange(1, len(letters))  # first letters are rarely mistyped
    kind = rng.random()
    if kind < 0.35:
        low = letters[i].lower()
        letters[i] = rng.choice(KEYBOARD_NEIGHBOURS.get(low, "e"))
    elif kind < 0.6:
        del letters[i]
    elif kind < 0.8:
        letters.insert(i, letters[i].lower())
    elif i < len(letters) - 1:
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    else:
        letters[i - 1], letters[i] = letters[i], letters[i - 1]
    return "".join(letters)


def nickname(rng: random.Random, name: str) -> str | None:
    key = name.lower()
    options = list(_NICKNAMES.get(key, ()))
    options += [variant for variant in _VARIANTS.get(key, ()) if variant != key]
    if not options:
        return None
    return rng.choice(options).capitalize()


def digit_slip(rng: random.Random, when: date) -> date:
    text = when.strftime("%d%m%Y")
    for _ in range(50):
        i = rng.choice((0, 1, 2, 3, 6, 7))  # day, month, last two year digits
        if rng.random() < 0.7:
            candidate = text[:i] + str(rng.randrange(10)) + text[i + 1 :]
        elif i in (0, 2, 6):
            candidate = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        else:
            continue
        try:
            slipped = date(int(candidate[4:]), int(candidate[2:4]), int(candidate[:2]))
        except ValueError:
            continue
        if slipped != when:
            return slipped
    return when


NEW_CHILD_KINDS = (
    "new_random",
    "unrecorded_sibling",
    "unrecorded_twin",
    "namesake",
    "namesake_same_dob",
    "parent_same_name",
    "unborn_sibling",
)


class Messer:
    """Applies realistic referral errors to a person's identity."""

    def __init__(self, generator: Generator, people: list[Person], households: list[Household]) -> None:
        self.g = generator
        self.rng = generator.rng
        self.people = people
        self.by_id = {person.id: person for person in people}
        self.households = households

    def rereferral(self, person: Person) -> Query:
        rng = self.rng
        r = person.identity
        errors: list[str] = []
        if r.expected_date_of_birth is not None:
            return self._unborn_rereferral(person)
        given, family, born = r.given_name, r.family_name, r.date_of_birth
        nhs, postcode, gender = None, r.postcode, r.gender
        assert born is not None and given is not None and family is not None
        if r.nhs_number and rng.random() < 0.45:
            nhs = r.nhs_number
            roll = rng.random()
            if roll < 0.01:
                nhs = nhs[:5] + str((int(nhs[5]) + rng.randint(1, 9)) % 10) + nhs[6:]
                errors.append("nhs_typo")
            elif roll < 0.015:
                sibling = self._sibling_with_nhs(person)
                if sibling is not None:
                    nhs = sibling
                    errors.append("nhs_of_sibling")
            if rng.random() < 0.3:
                nhs = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
        roll = rng.random()
        if roll < 0.10 and (short := nickname(rng, given)):
            given = short
            errors.append("given_nickname")
        elif roll < 0.15:
            given = typo(rng, given)
            errors.append("given_typo")
        elif roll < 0.17:
            given = None
            errors.append("given_missing")
        elif roll < 0.18:
            given, family = family, given
            errors.append("names_swapped")
        roll = rng.random()
        if "names_swapped" in errors:
            pass
        elif "-" in family and roll < 0.4:
            family = rng.choice(family.split("-"))
            errors.append("family_hyphen_dropped")
        elif roll < 0.05:
            family = typo(rng, family)
            errors.append("family_typo")
        elif roll < 0.08:
            household = self.households[person.household]
            family = self.g.surname(household.group)
            errors.append("family_changed")
        elif roll < 0.10 and "-" not in family:
            other = self.g.surname(self.households[person.household].group).split("-")[0]
            family = f"{family}-{other}" if rng.random() < 0.5 else f"{other}-{family}"
            errors.append("family_hyphen_added")
        elif roll < 0.11:
            family = family.upper()
            errors.append("family_upper_case")
        roll = rng.random()
        if roll < 0.03 and born.day <= 12 and born.day != born.month:
            born = date(born.year, born.day, born.month)
            errors.append("dob_transposed")
        elif roll < 0.06:
            born = digit_slip(rng, born)
            errors.append("dob_digit_typo")
        elif roll < 0.08:
            born = born + timedelta(days=rng.choice((-1, 1)))
            errors.append("dob_off_by_one")
        elif roll < 0.095:
            try:
                born = born.replace(year=born.year + rng.choice((-1, 1)))
                errors.append("dob_year_off_by_one")
            except ValueError:
                pass
        elif roll < 0.105:
            born = None
            errors.append("dob_missing")
        roll = rng.random()
        if roll < 0.15:
            postcode = self.g.postcode(near=postcode)
            errors.append("moved")
        elif roll < 0.17 and postcode:
            postcode = self._postcode_slip(postcode)
            errors.append("postcode_typo")
        elif roll < 0.22:
            postcode = None
            errors.append("postcode_missing")
        roll = rng.random()
        if roll < 0.1:
            gender = None
        elif roll < 0.103 and gender:
            gender = "female" if gender == "male" else "male"
            errors.append("gender_wrong")
        identity = Identity(
            given_name=given,
            family_name=family,
            date_of_birth=born,
            nhs_number=nhs,
            postcode=postcode,
            gender=gender,
        )
        return Query(identity, person.id, "rereferral", tuple(errors))

    def _unborn_rereferral(self, person: Person) -> Query:
        rng = self.rng
        r = person.identity
        assert r.expected_date_of_birth is not None
        if rng.random() < 0.5:
            shift = rng.choice((0, 0, 0, rng.randint(-14, 14)))
            identity = replace(r, expected_date_of_birth=r.expected_date_of_birth + timedelta(days=shift))
            return Query(identity, person.id, "rereferral", ("unborn_still_expected",))
        born = r.expected_date_of_birth + timedelta(days=max(-70, min(14, int(rng.gauss(-5, 12)))))
        gender = rng.choice(("male", "female"))
        group = self.households[person.household].group
        identity = Identity(
            given_name=self.g.given(group, gender, set()),
            family_name=r.family_name,
            date_of_birth=born,
            postcode=r.postcode if rng.random() < 0.85 else self.g.postcode(near=r.postcode),
            gender=gender,
        )
        return Query(identity, person.id, "rereferral", ("unborn_now_born",))

    def _sibling_with_nhs(self, person: Person) -> str | None:
        for member in self.households[person.household].members:
            other = self.by_id[member].identity
            if member != person.id and other.nhs_number:
                return other.nhs_number
        return None

    def _postcode_slip(self, postcode: str) -> str:
        outward, inward = postcode.split()
        if self.rng.random() < 0.5:
            return f"{outward} {inward[0]}{inward[2]}{inward[1]}"
        return f"{outward} {inward[:2]}{self.rng.choice(UNIT_LETTERS)}"

    # -- children who are not in the population

    def new_child(self) -> Query:
        rng = self.rng
        kind = rng.choices(
            NEW_CHILD_KINDS,
            weights=(40, 20, 10, 10, 5, 10, 5),
        )[0]
        person = self.people[rng.randrange(len(self.people))]
        r = person.identity
        household = self.households[person.household]
        born = r.date_of_birth or r.expected_date_of_birth
        assert born is not None
        siblings = {self.by_id[m].identity.given_name for m in household.members}
        names = {name for name in siblings if name}
        gender = rng.choice(("male", "female"))
        if kind == "new_random":
            group = self.g.group()
            identity = Identity(
                given_name=self.g.given(group, gender, set()),
                family_name=self.g.surname(group),
                date_of_birth=self.g.birth_date(),
                nhs_number=self.g.nhs_number() if rng.random() < 0.4 else None,
                postcode=self.g.postcode(),
                gender=gender,
            )
        elif kind == "unrecorded_sibling":
            gap = rng.randint(330, 5 * 365) * rng.choice((-1, 1))
            identity = Identity(
                given_name=self.g.given(household.group, gender, names),
                family_name=household.surname,
                date_of_birth=min(born + timedelta(days=gap), REFERENCE_DATE),
                nhs_number=self.g.nhs_number() if rng.random() < 0.4 else None,
                postcode=household.postcode,
                gender=gender,
            )
        elif kind == "unrecorded_twin":
            given = self.g.given(household.group, gender, names)
            for pair in TWIN_NAME_PAIRS + MIXED_TWIN_NAME_PAIRS:
                if r.given_name in pair and rng.random() < 0.5:
                    given = pair[1] if r.given_name == pair[0] else pair[0]
                    mixed = pair in MIXED_TWIN_NAME_PAIRS
                    gender = ("female" if r.gender == "male" else "male") if mixed else (r.gender or gender)
            if any(related_names(given, name) for name in names):
                # the look-alike twin is already recorded (a household can hold a pair of twins)
                given = self.g.given(household.group, gender, names)
            identity = Identity(
                given_name=given,
                family_name=r.family_name,
                date_of_birth=born,
                nhs_number=self.g.nhs_number() if rng.random() < 0.4 else None,
                postcode=household.postcode,
                gender=gender,
            )
        elif kind in ("namesake", "namesake_same_dob"):
            same_day = kind == "namesake_same_dob"
            identity = Identity(
                given_name=r.given_name or self.g.given(household.group, gender, set()),
                family_name=r.family_name,
                date_of_birth=born if same_day else self.g.birth_date(),
                nhs_number=self.g.nhs_number() if rng.random() < 0.4 else None,
                postcode=self.g.postcode(),  # anywhere in the area, occasionally the same district
                gender=r.gender,
            )
        elif kind == "parent_same_name":
            identity = Identity(
                given_name=r.given_name or "Sam",
                family_name=r.family_name,
                date_of_birth=born - timedelta(days=rng.randint(18 * 365, 40 * 365)),
                postcode=household.postcode,
                gender=r.gender,
            )
        else:  # unborn_sibling: a new pregnancy in a known household
            expected = born + timedelta(days=rng.randint(300, 3 * 365))
            identity = Identity(
                family_name=household.surname,
                expected_date_of_birth=expected,
                postcode=household.postcode,
            )
        return Query(identity, None, kind, ())


def generate(population_size: int, queries: int, seed: int = 20250601, existing_share: float = 0.7):
    """The population and the queries (re-referrals with truth, then look-alike new children)."""
    generator = Generator(seed, population_size)
    people, households = generator.population()
    messer = Messer(generator, people, households)
    out: list[Query] = []
    for _ in range(queries):
        if generator.rng.random() < existing_share:
            out.append(messer.rereferral(people[generator.rng.randrange(len(people))]))
        else:
            out.append(messer.new_child())
    return people, out
