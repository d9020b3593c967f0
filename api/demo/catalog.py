"""The demo town's static reference data: departments, service types, crews and logins.

This is what a town configures once (CONTEXT.md: one 311 number in front of public works,
utilities and development services). Service types carry Open311 questions in the shape of
`api.catalog.schemas.AttributeDefinition`, plus what the seeder needs to fake calls believably:
what callers say, how advocates answer without a truck, which crews do the work. Nothing here
is random; `api.demo.seed` draws from it.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

import msgspec

from api.auth.schemas import Role
from api.catalog.schemas import AttributeDatatype, AttributeDefinition, AttributeValue

DEMO_PASSWORD = "fieldloop-demo"
CARY_CENTRE = (35.7915, -78.7811)  # Town Hall, 316 N Academy St
TOWN_RADIUS_M = 8_000
ZIP_CODES = ("27511", "27513", "27518", "27519")
# fmt: off
STREETS = (
    "Kildaire Farm Rd", "Cary Pkwy", "Maynard Rd", "Walnut St", "Chatham St", "Academy St",
    "Harrison Ave", "High House Rd", "Davis Dr", "Tryon Rd", "Chapel Hill Rd", "Old Apex Rd",
    "Evans Rd", "Lake Pine Dr", "Ten Ten Rd", "Green Level Church Rd", "Penny Rd",
    "Carpenter Fire Station Rd", "Buck Jones Rd", "Reedy Creek Rd", "Weston Pkwy", "Trinity Rd",
    "Dry Ave", "Park St", "Waldo Rood Blvd", "Holly Springs Rd", "Jenks Carpenter Rd",
    "Morrisville Pkwy",
)
# fmt: on


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    crew: str | None = None  # a CREWS name, for crew users


@dataclass(frozen=True)
class DemoServiceType:
    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    department: str  # a DEPARTMENTS code
    _: KW_ONLY
    needs_work_order: bool
    sla_hours: int
    questions: tuple[AttributeDefinition, ...]
    weight: int  # relative share of the town's calls
    reports: tuple[str, ...]  # what callers say (the case description)
    phone_answers: tuple[str, ...]  # how an advocate resolves it without field work
    crews: tuple[str, ...] = ()  # the CREWS that do its field work
    at_home: bool = False  # usually reported at the caller's own address

    def attribute_definitions(self) -> list[dict]:
        """The questions as stored in `service_types.attributes` (Open311 order 1, 2, …)."""
        return [
            msgspec.to_builtins(msgspec.structs.replace(question, order=index))
            for index, question in enumerate(self.questions, start=1)
        ]


YES_NO = {"yes": "Yes", "no": "No"}
YES_NO_UNSURE = {"yes": "Yes", "no": "No", "unsure": "Not sure"}


def pick(
    code: str, description: str, options: dict[str, str], *, required: bool = False
) -> AttributeDefinition:
    """A one-answer question (Open311 singlevaluelist)."""
    return AttributeDefinition(
        code=code,
        description=description,
        datatype=AttributeDatatype.SINGLEVALUELIST,
        required=required,
        values=[AttributeValue(key=key, name=name) for key, name in options.items()],
    )


def pick_many(
    code: str, description: str, options: dict[str, str], *, required: bool = False
) -> AttributeDefinition:
    """A question answered with one or more of the options (Open311 multivaluelist)."""
    return msgspec.structs.replace(
        pick(code, description, options, required=required),
        datatype=AttributeDatatype.MULTIVALUELIST,
    )


def number(code: str, description: str, *, required: bool = False) -> AttributeDefinition:
    return AttributeDefinition(
        code=code, description=description, datatype=AttributeDatatype.NUMBER, required=required
    )


def text(code: str, description: str, *, required: bool = False) -> AttributeDefinition:
    return AttributeDefinition(code=code, description=description, required=required)


DEPARTMENTS = {  # code → name
    "public-works": "Public Works",
    "utilities": "Utilities",
    "development": "Development Services",
    "parks": "Parks",
}

CREWS = {  # name → department code; in order: demo login crewN belongs to the Nth crew
    "Streets 1": "public-works",
    "Streets 2": "public-works",
    "Water & Sewer": "utilities",
    "Sanitation": "public-works",
    "Parks & Trees": "parks",
    "Signals & Lights": "public-works",
}

DEMO_LOGINS = (
    DemoLogin("advocate", Role.ADVOCATE),
    DemoLogin("supervisor", Role.SUPERVISOR),
    DemoLogin("admin", Role.ADMIN),
    *(DemoLogin(f"crew{n}", Role.CREW, crew) for n, crew in enumerate(CREWS, start=1)),
)

_STREETS, _WASTE, _TRAFFIC = "Streets and sidewalks", "Trash and recycling", "Traffic"
_WATER, _PERMITS = "Water and sewer", "Permits and inspections"
_PARKS, _NEIGHBORHOOD = "Parks and trees", "Neighborhood"
_STREET_CREWS = ("Streets 1", "Streets 2")

# fmt: off
SERVICE_TYPES = (
    DemoServiceType(
        "pothole", "Pothole", "A hole or broken pavement in a town street.", _STREETS,
        ("pothole", "road", "street", "asphalt"), "public-works",
        needs_work_order=True, sla_hours=72, weight=14, crews=_STREET_CREWS,
        questions=(
            pick("size", "How big is it?", {"small": "Smaller than a dinner plate",
                 "medium": "Up to a car tire", "large": "Larger than a car tire"}, required=True),
            pick("lane", "Where in the road?", {"travel_lane": "Travel lane",
                 "shoulder": "Shoulder or edge", "crosswalk": "Crosswalk"}),
            number("depth_cm", "About how deep, in centimetres?"),
        ),
        reports=("Deep pothole in the right lane", "Several potholes after the rain",
                 "Pothole by the storm drain, cars swerve round it"),
        phone_answers=("Already patched this week; told the caller",
                       "Road belongs to NCDOT; gave their number"),
    ),
    DemoServiceType(
        "sidewalk-damage", "Sidewalk damage", "Broken, lifted or missing sidewalk.", _STREETS,
        ("sidewalk", "trip", "curb", "ramp"), "public-works",
        needs_work_order=True, sla_hours=240, weight=4, crews=_STREET_CREWS,
        questions=(
            pick("problem", "What is wrong?", {"trip_hazard": "Raised slab (trip hazard)",
                 "cracked": "Cracked", "missing": "Missing section",
                 "roots": "Lifted by tree roots"}, required=True),
            pick("blocks_wheelchairs", "Does it block wheelchairs or strollers?", YES_NO),
        ),
        reports=("Raised slab outside the school, someone tripped",
                 "Sidewalk crumbling near the bus stop"),
        phone_answers=("Private driveway apron: owner's responsibility, explained",),
    ),
    DemoServiceType(
        "graffiti", "Graffiti", "Paint or marker on public property.", _NEIGHBORHOOD,
        ("graffiti", "vandalism", "paint", "tag"), "public-works",
        needs_work_order=True, sla_hours=120, weight=3, crews=("Streets 2",),
        questions=(
            pick("surface", "What is painted?", {"wall": "Wall or fence", "sign": "Sign",
                 "bridge": "Bridge or tunnel", "utility_box": "Utility box"}, required=True),
            pick("offensive", "Is it offensive?", YES_NO, required=True),
        ),
        reports=("Tags on the greenway tunnel", "Graffiti on the stop sign at the corner"),
        phone_answers=("On a private building: gave the owner-removal information",),
    ),
    DemoServiceType(
        "traffic-signal", "Traffic signal problem", "A signal that is dark, stuck or damaged.",
        _TRAFFIC, ("traffic light", "signal", "intersection"), "public-works",
        needs_work_order=True, sla_hours=4, weight=2, crews=("Signals & Lights",),
        questions=(
            pick("problem", "What is the signal doing?", {"dark": "Dark (no lights)",
                 "flashing": "Flashing", "stuck": "Stuck on one color",
                 "damaged": "Pole or head damaged"}, required=True),
            text("intersection", "Which intersection?", required=True),
        ),
        reports=("Signal stuck on red for ten minutes",
                 "Lights flashing at rush hour, traffic backing up"),
        phone_answers=("Already reported by police; crew on the way",),
    ),
    DemoServiceType(
        "streetlight-out", "Streetlight out", "A streetlight that is out or flickering.",
        _TRAFFIC, ("streetlight", "light", "dark"), "public-works",
        needs_work_order=True, sla_hours=120, weight=4, crews=("Signals & Lights",),
        questions=(
            pick("problem", "What is wrong?", {"out": "Out", "flickering": "Flickering",
                 "day_burning": "On during the day"}, required=True),
            text("pole_number", "Pole number (on the tag), if you can see it"),
        ),
        reports=("Light out in front of my house", "Streetlight flickers all night"),
        phone_answers=("Duke Energy light: reported to Duke for the caller",),
    ),
    DemoServiceType(
        "missed-trash", "Missed trash pickup", "The trash cart was not emptied on its day.",
        _WASTE, ("trash", "garbage", "cart", "missed"), "public-works",
        needs_work_order=True, sla_hours=24, weight=12, crews=("Sanitation",), at_home=True,
        questions=(
            pick("cart_out", "Was the cart at the curb by 7 a.m.?", YES_NO, required=True),
            pick("collection_day", "What is your collection day?", {"mon": "Monday",
                 "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday"}),
        ),
        reports=("Trash not picked up, whole street was done", "Cart skipped again this week"),
        phone_answers=("Holiday schedule: pickup is tomorrow, explained",
                       "Truck still on the route today"),
    ),
    DemoServiceType(
        "missed-recycling", "Missed recycling", "The recycling cart was not emptied.", _WASTE,
        ("recycling", "cart", "missed"), "public-works",
        needs_work_order=True, sla_hours=48, weight=7, crews=("Sanitation",), at_home=True,
        questions=(
            pick("cart_out", "Was the cart at the curb by 7 a.m.?", YES_NO, required=True),
        ),
        reports=("Recycling missed, neighbors were emptied",
                 "Recycling cart not emptied for two weeks"),
        phone_answers=("Recycling is every other week; next pickup explained",),
    ),
    DemoServiceType(
        "bulky-item", "Bulky item pickup", "Collection of furniture, mattresses and appliances.",
        _WASTE, ("bulky", "furniture", "mattress", "appliance"), "public-works",
        needs_work_order=True, sla_hours=120, weight=6, crews=("Sanitation",), at_home=True,
        questions=(
            pick_many("items", "What needs collecting?", {"furniture": "Furniture",
                      "mattress": "Mattress", "appliance": "Appliance", "carpet": "Carpet",
                      "electronics": "Electronics"}, required=True),
            number("item_count", "How many items?", required=True),
        ),
        reports=("Old couch and a mattress at the curb", "Fridge to collect, doors removed"),
        phone_answers=("Electronics go to the convenience center; explained",),
    ),
    DemoServiceType(
        "leaf-collection", "Leaf collection", "Loose-leaf collection from the curb.", _WASTE,
        ("leaves", "yard waste", "leaf"), "public-works",
        needs_work_order=True, sla_hours=168, weight=4, crews=("Sanitation",), at_home=True,
        questions=(
            pick("pile_size", "How big is the pile?", {"small": "Knee high",
                 "large": "Waist high or more"}, required=True),
            pick("clear", "Is the pile clear of cars and mailboxes?", YES_NO),
        ),
        reports=("Leaf pile at the curb for two weeks", "Leaves blocking the storm drain"),
        phone_answers=("Crew is on this street this week per the schedule",),
    ),
    DemoServiceType(
        "illegal-dumping", "Illegal dumping", "Trash dumped on public land or the roadside.",
        _NEIGHBORHOOD, ("dumping", "trash", "tires", "litter"), "public-works",
        needs_work_order=True, sla_hours=72, weight=4, crews=("Sanitation",),
        questions=(
            pick_many("material", "What was dumped?", {"tires": "Tires",
                      "furniture": "Furniture", "bags": "Bags of trash",
                      "construction": "Construction debris",
                      "hazardous": "Paint, oil or chemicals"}, required=True),
            pick("public_land", "Is it on public land?", YES_NO_UNSURE),
        ),
        reports=("Tires dumped at the end of the cul-de-sac",
                 "Construction debris along the greenway"),
        phone_answers=("On private land: referred to code enforcement",),
    ),
    DemoServiceType(
        "tree-down", "Tree down", "A fallen tree or large limb on a street or in a park.",
        _PARKS, ("tree", "limb", "storm", "branch"), "parks",
        needs_work_order=True, sla_hours=8, weight=3, crews=("Parks & Trees",),
        questions=(
            pick_many("blocking", "What is it blocking?", {"road": "Road",
                      "sidewalk": "Sidewalk", "driveway": "Driveway",
                      "power_lines": "Touching power lines", "nothing": "Nothing"},
                      required=True),
            number("trunk_cm", "About how thick is the trunk, in centimetres?"),
        ),
        reports=("Large limb across the road after the storm", "Tree fell across the greenway"),
        phone_answers=("Tree on private property: owner's responsibility, explained",),
    ),
    DemoServiceType(
        "water-leak", "Water leak", "Water coming up from the street, sidewalk or meter box.",
        _WATER, ("leak", "water", "meter"), "utilities",
        needs_work_order=True, sla_hours=24, weight=6, crews=("Water & Sewer",),
        questions=(
            pick("location", "Where is the water coming from?", {"street": "Street",
                 "sidewalk": "Sidewalk", "yard": "Yard", "meter_box": "Water meter box"},
                 required=True),
            pick("flow", "How much water?", {"trickle": "A trickle", "steady": "Steady flow",
                 "gushing": "Gushing"}),
        ),
        reports=("Water bubbling up through the road", "Meter box full of water, overflowing"),
        phone_answers=("Leak is on the house side of the meter: advised a plumber",),
    ),
    DemoServiceType(
        "water-main-break", "Water main break", "A broken water main flooding the street.",
        _WATER, ("main", "break", "flooding", "water"), "utilities",
        needs_work_order=True, sla_hours=4, weight=1, crews=("Water & Sewer",),
        questions=(
            pick("water_in_road", "Is water running across the road?", YES_NO, required=True),
            pick("service_out", "Is your water off?", YES_NO),
        ),
        reports=("Water gushing from the pavement, road flooding",
                 "Main break, whole street has no water"),
        phone_answers=("Crew already on site; told the caller",),
    ),
    DemoServiceType(
        "no-water", "No water / low pressure", "No water, or very low pressure, at the tap.",
        _WATER, ("pressure", "no water", "tap"), "utilities",
        needs_work_order=True, sla_hours=12, weight=3, crews=("Water & Sewer",), at_home=True,
        questions=(
            pick("problem", "What is happening?", {"no_water": "No water at all",
                 "low_pressure": "Low pressure", "discolored": "Discolored water"},
                 required=True),
            pick("neighbors", "Are neighbors affected too?", YES_NO_UNSURE),
        ),
        reports=("No water since this morning", "Pressure very low in the whole house"),
        phone_answers=("Planned shut-off for main work on the street; explained",),
    ),
    DemoServiceType(
        "sewer-backup", "Sewer backup", "Sewage backing up into a home or out of a manhole.",
        _WATER, ("sewer", "backup", "sewage", "manhole"), "utilities",
        needs_work_order=True, sla_hours=6, weight=2, crews=("Water & Sewer",), at_home=True,
        questions=(
            pick("location", "Where is it backing up?", {"inside": "Inside the house",
                 "cleanout": "Yard cleanout", "manhole": "Manhole in the street"},
                 required=True),
            pick("overflowing", "Is sewage overflowing now?", YES_NO, required=True),
        ),
        reports=("Sewage coming up in the basement shower", "Manhole overflowing into the creek"),
        phone_answers=("Blockage on the private lateral: advised a plumber",),
    ),
    DemoServiceType(
        "utility-bill", "Utility bill question", "Questions about a water, sewer or trash bill.",
        "Accounts and billing", ("bill", "account", "payment", "utility"), "utilities",
        needs_work_order=False, sla_hours=48, weight=8, at_home=True,
        questions=(
            pick("topic", "What is the question about?", {"high_bill": "High bill",
                 "payment": "Payment", "start_stop": "Starting or stopping service",
                 "autopay": "Automatic payment"}, required=True),
            text("account_number", "Utility account number"),
        ),
        reports=("Bill doubled this month", "How do I set up autopay?", "Moving out, stop service"),
        phone_answers=("Explained the tiered rates; suggested checking for a leak",
                       "Set up automatic payment with the caller",
                       "Scheduled the final meter reading"),
    ),
    DemoServiceType(
        "permit-question", "Building permit question", "Do I need a permit, and how to apply.",
        _PERMITS, ("permit", "building", "inspection", "deck"), "development",
        needs_work_order=False, sla_hours=72, weight=6,
        questions=(
            pick("project", "What is the project?", {"addition": "Addition", "deck": "Deck",
                 "fence": "Fence", "pool": "Pool", "commercial": "Commercial build-out"},
                 required=True),
            text("permit_number", "Permit number, if there is one"),
        ),
        reports=("Do I need a permit for a fence?", "When is my deck inspection?"),
        phone_answers=("Explained the permit requirements and sent the application link",
                       "Gave the inspection date from the permit record"),
    ),
    DemoServiceType(
        "code-enforcement", "Code enforcement complaint",
        "Junk vehicles, outdoor storage or work without a permit. A code compliance officer "
        "follows up; no field crew is sent.",
        _PERMITS, ("code", "violation", "junk", "nuisance"), "development",
        needs_work_order=False, sla_hours=120, weight=3,
        questions=(
            pick("violation", "What kind of problem?", {"junk_vehicle": "Junk vehicle",
                 "outdoor_storage": "Outdoor storage", "unpermitted_work": "Work without a permit",
                 "sign": "Illegal sign"}, required=True),
            pick("ongoing", "Has it gone on for more than a month?", YES_NO),
        ),
        reports=("Junk cars in the neighbor's front yard",
                 "Construction going on with no permit posted"),
        phone_answers=("Forwarded to the code compliance officer for an inspection",
                       "Permit is on file; told the caller"),
    ),
    DemoServiceType(
        "overgrown-lot", "Overgrown lot", "Grass or weeds over the height the town allows.",
        _NEIGHBORHOOD, ("grass", "weeds", "lot", "mowing"), "development",
        needs_work_order=True, sla_hours=336, weight=3, crews=("Parks & Trees",),
        questions=(
            number("grass_height_cm", "About how tall is the grass, in centimetres?",
                   required=True),
            pick("vacant", "Is the lot vacant?", YES_NO_UNSURE),
        ),
        reports=("Vacant lot grass waist high, snakes seen",
                 "Abandoned house, yard not mowed in months"),
        phone_answers=("Owner notice already sent; abatement scheduled",),
    ),
    DemoServiceType(
        "park-maintenance", "Park maintenance", "Trash, restrooms, lights or trails in a park.",
        _PARKS, ("park", "restroom", "trail", "trash can"), "parks",
        needs_work_order=True, sla_hours=120, weight=4, crews=("Parks & Trees",),
        questions=(
            text("park", "Which park?", required=True),
            pick_many("issues", "What needs attention?", {"trash": "Overflowing trash",
                      "restroom": "Restroom", "lighting": "Lighting", "trail": "Trail",
                      "bench": "Bench or table"}, required=True),
        ),
        reports=("Trash cans overflowing by the shelter", "Restroom locked during open hours"),
        phone_answers=("Event clean-up crew already scheduled for Monday",),
    ),
    DemoServiceType(
        "playground-broken", "Playground equipment broken", "Broken or unsafe play equipment.",
        _PARKS, ("playground", "swing", "slide", "park"), "parks",
        needs_work_order=True, sla_hours=48, weight=2, crews=("Parks & Trees",),
        questions=(
            text("park", "Which park?", required=True),
            pick("equipment", "What is broken?", {"swing": "Swing", "slide": "Slide",
                 "climber": "Climber", "surface": "Safety surface", "fence": "Fence or gate"},
                 required=True),
            pick("unsafe", "Is it unsafe to use?", YES_NO, required=True),
        ),
        reports=("Swing chain broken, seat hanging", "Crack in the slide, sharp edge"),
        phone_answers=("Already taped off and reported this morning",),
    ),
)

# Answers for the free-text and number questions above, by attribute code.
SAMPLE_ANSWERS = {
    "depth_cm": ("3", "5", "8", "12", "20"),
    "item_count": ("1", "2", "3", "4", "6"),
    "trunk_cm": ("15", "30", "45", "60", "90"),
    "grass_height_cm": ("40", "60", "90", "120"),
    "pole_number": ("SL-10482", "SL-22917", "SL-30551", "SL-41876"),
    "intersection": ("Kildaire Farm Rd & Cary Pkwy", "Walnut St & Maynard Rd",
                     "High House Rd & Davis Dr", "Chatham St & Academy St"),
    "account_number": ("100483-2201", "204417-9034", "318820-1145", "402219-7763"),
    "permit_number": ("BP-2024-01873", "BP-2024-02210", "BP-2025-00412"),
    "park": ("Fred G. Bond Metro Park", "Hemlock Bluffs Nature Preserve", "Annie L. Jones Park",
             "Robert V. Godbold Park", "North Cary Park", "Mills Park", "Downtown Cary Park"),
}

# What people write on timelines, by situation.
FIELD_NOTES = ("Took before and after photos.", "Spoke with the resident on site.",
               "Coned off the area until the repair sets.", "Left a door hanger for the owner.")
HOLD_REASONS = ("Waiting on parts from the warehouse.", "Waiting for dry weather.",
                "Needs an 811 utility locate before digging.", "Needs a contractor: quote asked.")
CANCEL_REASONS = ("Duplicate of another work order at this address.",
                  "Resident says it was fixed privately.", "On private property: not ours to fix.")
REOPEN_REASONS = ("Resident reports the problem is back.",
                  "Inspection found the repair incomplete.")
FOLLOW_UP_CALLS = ("Caller asked for an update; told them a crew is scheduled.",
                   "Caller phoned again: it is getting worse.",
                   "Neighbor called about the same problem.")
OFFICE_NOTES = ("Waiting for the caller to send a photo.", "Left a voicemail for the caller.",
                "Asked the department for an answer; will call back.")
INSTRUCTIONS = ("Call the resident before arriving.", "Dog in the back yard.",
                "Access from the alley behind the house.", "Check the rest of the block too.")
# fmt: on
