"""The five dataset contracts, in one place. The README's "Data contracts" section is generated from this file
(`arogya contracts --markdown`)."""

from __future__ import annotations

from etl.contracts.base import Contract, Field, Kind

SEX_CHOICES = {
    "m": "M", "male": "M", "पुरुष": "M", "man": "M",
    "f": "F", "female": "F", "महिला": "F", "स्त्री": "F", "woman": "F",
    "o": "O", "other": "O", "अन्य": "O", "t": "O", "transgender": "O", "ट्रांसजेंडर": "O",
}  # fmt: skip
MODE_CHOICES = {
    "abhwc": "ABHWC", "esanjeevaniabhwc": "ABHWC", "hwc": "ABHWC", "doctortodoctor": "ABHWC", "d2d": "ABHWC",
    "esanjeevani": "ABHWC", "hubandspoke": "ABHWC",
    "opd": "OPD", "esanjeevaniopd": "OPD", "patienttodoctor": "OPD", "p2d": "OPD", "ओपीडी": "OPD",
}  # fmt: skip
CHANNEL_CHOICES = {
    "video": "video", "videocall": "video", "वीडियो": "video",
    "audio": "audio", "phone": "audio", "voice": "audio", "ऑडियो": "audio",
    "chat": "chat", "text": "chat", "चैट": "chat",
}  # fmt: skip
OUTCOME_CHOICES = {
    "completed": "completed", "complete": "completed", "done": "completed", "closed": "completed",
    "पूर्ण": "completed",
    "referred": "referred", "referral": "referred", "रेफर": "referred", "रेफ़र": "referred",
    "abandoned": "abandoned", "dropped": "abandoned", "disconnected": "abandoned", "छोड़ा": "abandoned",
    "noshow": "no_show", "notshown": "no_show", "absent": "no_show", "अनुपस्थित": "no_show",
}  # fmt: skip
FACILITY_TYPE_CHOICES = {
    "sc": "SC", "hsc": "SC", "subcentre": "SC", "subcenter": "SC", "hwcsc": "SC", "aamsc": "SC",
    "उपस्वास्थ्यकेंद्र": "SC",
    "phc": "PHC", "aphc": "PHC", "hwcphc": "PHC", "aamphc": "PHC", "प्राथमिकस्वास्थ्यकेंद्र": "PHC",
    "uphc": "UPHC", "chc": "CHC", "referralhospital": "CHC", "sdh": "SDH", "subdivisionalhospital": "SDH",
    "dh": "DH", "districthospital": "DH", "sadarhospital": "DH", "सदरअस्पताल": "DH",
    "mc": "MC", "medicalcollege": "MC", "mch": "MC", "gmch": "MC",
}  # fmt: skip
ROLE_CHOICES = {"hub": "hub", "हब": "hub", "spoke": "spoke", "स्पोक": "spoke"}
STATUS_KIND_CHOICES = {
    "heartbeat": "heartbeat", "ping": "heartbeat",
    "sessionstart": "session_start", "start": "session_start", "sessionend": "session_end", "end": "session_end",
    "outage": "outage", "down": "outage", "recovery": "recovery", "up": "recovery",
}  # fmt: skip
BOOL_CHOICES = {
    "1": "1", "y": "1", "yes": "1", "true": "1", "हाँ": "1", "हां": "1", "active": "1",
    "0": "0", "n": "0", "no": "0", "false": "0", "नहीं": "0", "inactive": "0",
}  # fmt: skip

CONSULTATIONS = Contract(
    dataset="consultations",
    key=("consultation_id",),
    description="One row per teleconsultation (eSanjeevani AB-HWC or OPD).",
    fields=(
        Field("consultation_id", Kind.ID, True,
              ("Consultation ID", "Consultation No", "Consult ID", "परामर्श आईडी", "परामर्श संख्या"),
              description="Source consultation id; the natural key."),
        Field("started_at", Kind.DATETIME, True,
              ("Start Time", "Consultation Date", "Consultation Start", "Date", "परामर्श दिनांक", "प्रारंभ समय"),
              description="When the doctor picked up. IST unless an offset is given."),
        Field("ended_at", Kind.DATETIME, False, ("End Time", "Consultation End", "समाप्ति समय"),
              description="When the call ended; must not be before the start."),
        Field("spoke_id", Kind.ID, True, ("Spoke ID", "HWC ID", "AAM ID", "Spoke Code", "स्पोक आईडी"),
              description="Facility id of the spoke (must exist in the facility master)."),
        Field("hub_id", Kind.ID, True, ("Hub ID", "Hub Code", "हब आईडी"),
              description="Facility id of the hub (must exist in the facility master)."),
        Field("district_lgd", Kind.INT, False, ("District LGD Code", "District Code", "जिला कोड", "ज़िला कोड"),
              description="If given, must be the spoke's district."),
        Field("block", Kind.TEXT, False, ("Block", "Block Name", "प्रखंड", "ब्लॉक"),
              description="Informational; the spoke's block from the master is used."),
        Field("age", Kind.INT, True, ("Age", "Patient Age", "Age (Years)", "आयु", "उम्र"),
              description="Years, 0-120."),
        Field("sex", Kind.CHOICE, True, ("Gender", "Sex", "लिंग"), SEX_CHOICES,
              description="M/F/O, Male/Female/Other, पुरुष/महिला/अन्य."),
        Field("specialty", Kind.TEXT, False, ("Specialty", "Speciality", "Department", "विशेषज्ञता", "विभाग"),
              default="GEN", description="Specialty code or name (default: general medicine)."),
        Field("mode", Kind.CHOICE, False, ("Mode", "Consultation Type", "Service", "परामर्श प्रकार"),
              MODE_CHOICES, default="ABHWC", description="AB-HWC (doctor-to-doctor) or OPD (patient-to-doctor)."),
        Field("channel", Kind.CHOICE, False, ("Channel", "Call Type", "माध्यम"), CHANNEL_CHOICES,
              default="video", description="video / audio / chat."),
        Field("outcome", Kind.CHOICE, False, ("Outcome", "Status", "Consultation Status", "परिणाम", "स्थिति"),
              OUTCOME_CHOICES, default="completed", description="completed / referred / abandoned / no show."),
        Field("wait_minutes", Kind.FLOAT, False, ("Wait Time", "Wait Minutes", "Waiting Time (min)", "प्रतीक्षा समय"),
              description="Minutes in the queue before the doctor picked up (0-1440)."),
        Field("cho_id", Kind.ID, False, ("CHO ID", "CHO Code", "सीएचओ आईडी"),
              description="The Community Health Officer at the spoke."),
        Field("doctor_id", Kind.SECRET, False, ("Doctor ID", "Doctor Code", "चिकित्सक आईडी"),
              description="Tokenised (HMAC) before storage."),
        Field("abha_number", Kind.SECRET, False, ("ABHA Number", "ABHA ID", "ABHA", "आभा संख्या", "आभा नंबर"),
              description="Patient id: tokenised (HMAC), never stored."),
        Field("bhavya_id", Kind.SECRET, False, ("Bhavya ID", "BHAVYA ID", "भव्य आईडी"),
              description="Patient id: tokenised (HMAC), never stored."),
        Field("phone", Kind.SECRET, False, ("Phone", "Mobile", "Mobile Number", "Phone Number", "मोबाइल", "मोबाइल नंबर"),
              description="Patient id: tokenised (HMAC), never stored."),
        Field("patient_name", Kind.DROP, False, ("Patient Name", "Name", "मरीज का नाम", "रोगी का नाम", "नाम"),
              description="Dropped on read."),
        Field("address", Kind.DROP, False, ("Address", "Patient Address", "Village", "पता", "गाँव"),
              description="Dropped on read."),
    ),
)  # fmt: skip

FACILITIES = Contract(
    dataset="facilities",
    key=("facility_id",),
    description="The facility master: hubs and spokes.",
    fields=(
        Field("facility_id", Kind.ID, True, ("Facility ID", "Facility Code", "NIN", "HFR ID", "संस्थान आईडी"),
              description="Unique facility id."),
        Field("name", Kind.TEXT, True, ("Facility Name", "Name", "संस्थान का नाम", "नाम"), description="Name."),
        Field("facility_type", Kind.CHOICE, True, ("Facility Type", "Type", "संस्थान प्रकार"),
              FACILITY_TYPE_CHOICES, description="SC/PHC/UPHC/CHC/SDH/DH/MC."),
        Field("role", Kind.CHOICE, True, ("Role", "Hub/Spoke", "भूमिका"), ROLE_CHOICES, description="hub or spoke."),
        Field("district_lgd", Kind.INT, True, ("District LGD Code", "District Code", "जिला कोड", "ज़िला कोड"),
              description="LGD district code (must be a known district)."),
        Field("block_lgd", Kind.INT, False, ("Block LGD Code", "Block Code", "प्रखंड कोड"),
              description="LGD block code."),
        Field("block_name", Kind.TEXT, False, ("Block", "Block Name", "प्रखंड", "ब्लॉक"), description="Block name."),
        Field("block_name_hi", Kind.TEXT, False, ("Block Name (Hindi)", "प्रखंड का नाम"),
              description="Block name in Devanagari."),
        Field("lat", Kind.FLOAT, False, ("Latitude", "Lat", "अक्षांश"), description="WGS84 latitude."),
        Field("lon", Kind.FLOAT, False, ("Longitude", "Lon", "Long", "Lng", "देशांतर"), description="WGS84 longitude."),
        Field("hub_id", Kind.ID, False, ("Hub ID", "Assigned Hub", "Hub Code", "हब आईडी"),
              description="For a spoke: its assigned hub."),
        Field("operational_since", Kind.DATE, False, ("Operational Since", "Go Live Date", "Start Date", "प्रारंभ तिथि"),
              description="Date the facility started teleconsultation."),
        Field("service_start", Kind.TIME, False, ("Service Start", "OPD Start", "सेवा प्रारंभ"), default="09:00",
              description="Daily service start, HH:MM IST (default 09:00)."),
        Field("service_end", Kind.TIME, False, ("Service End", "OPD End", "सेवा समाप्ति"), default="16:00",
              description="Daily service end, HH:MM IST (default 16:00)."),
        Field("service_days", Kind.TEXT, False, ("Service Days", "OPD Days", "सेवा दिवस"), default="1111111",
              description="Days served, Monday first, as 7 digits (1111111) or names (Mon,Thu,Sat)."),
    ),
)  # fmt: skip

CHOS = Contract(
    dataset="chos",
    key=("cho_id",),
    description="Community Health Officers and their equipment and training.",
    fields=(
        Field("cho_id", Kind.ID, True, ("CHO ID", "CHO Code", "Employee ID", "सीएचओ आईडी"), description="Unique id."),
        Field("name", Kind.TEXT, True, ("CHO Name", "Name", "नाम", "सीएचओ का नाम"), description="Name (staff)."),
        Field("facility_id", Kind.ID, True, ("Facility ID", "HWC ID", "Spoke ID", "Posted At", "संस्थान आईडी"),
              description="Facility the CHO runs (must exist)."),
        Field("joined_on", Kind.DATE, False, ("Joined On", "Date of Joining", "DOJ", "योगदान तिथि"),
              description="Date of joining."),
        Field("laptop_issued_on", Kind.DATE, False, ("Laptop Issued On", "Laptop Issue Date", "लैपटॉप वितरण तिथि"),
              description="Date a laptop was issued; empty if not yet."),
        Field("training_modules", Kind.INT, False, ("Training Modules", "Modules Completed", "प्रशिक्षण मॉड्यूल"),
              default=0, description="Training modules completed, 0-18."),
        Field("active", Kind.CHOICE, False, ("Active", "In Service", "सक्रिय"), BOOL_CHOICES, default="1",
              description="Whether the CHO is in service."),
    ),
)  # fmt: skip

SCHEMES = Contract(
    dataset="schemes",
    key=("facility_id", "indicator_code", "month"),
    description="Scheme indicator values and targets per facility per month.",
    fields=(
        Field("facility_id", Kind.ID, True, ("Facility ID", "HWC ID", "संस्थान आईडी"), description="Facility."),
        Field("indicator_code", Kind.ID, True, ("Indicator", "Indicator Code", "संकेतक"),
              description="Indicator code from the catalogue."),
        Field("month", Kind.MONTH, True, ("Month", "Reporting Month", "माह"),
              description="yyyy-mm or a date in the month."),
        Field("value", Kind.FLOAT, True, ("Value", "Achievement", "उपलब्धि"), description="Achievement (>= 0)."),
        Field("target", Kind.FLOAT, False, ("Target", "लक्ष्य"), description="Target (>= 0)."),
    ),
)  # fmt: skip

STATUS = Contract(
    dataset="status",
    key=("event_id",),
    description="Status events from hub and spoke software (also accepted by POST /api/v1/status).",
    fields=(
        Field("event_id", Kind.ID, True, ("Event ID", "ईवेंट आईडी"), description="Unique event id."),
        Field("facility_id", Kind.ID, True, ("Facility ID", "संस्थान आईडी"), description="Facility (must exist)."),
        Field("event_time", Kind.DATETIME, True, ("Time", "Event Time", "Timestamp", "समय"),
              description="When it happened; not more than 5 minutes in the future."),
        Field("kind", Kind.CHOICE, True, ("Kind", "Event", "Type", "प्रकार"), STATUS_KIND_CHOICES,
              description="heartbeat, session_start, session_end, outage, recovery."),
        Field("doctors_online", Kind.INT, False, ("Doctors Online", "ऑनलाइन चिकित्सक"), description=">= 0."),
        Field("queue_length", Kind.INT, False, ("Queue Length", "Queue", "कतार"), description=">= 0."),
        Field("connectivity", Kind.TEXT, False, ("Connectivity", "Network", "नेटवर्क"), description="Free text."),
    ),
)  # fmt: skip

CONTRACTS: dict[str, Contract] = {c.dataset: c for c in (CONSULTATIONS, FACILITIES, CHOS, SCHEMES, STATUS)}
