"""Every user-facing string, in English and Hindi, and Indian number and date formats.

``t(key, lang, **values)`` looks a key up in the language's catalogue (falling back to English, then to the key
itself, so a missing translation shows up on screen instead of crashing), then fills ``{name}`` placeholders.
"""

from __future__ import annotations

import math
from datetime import date, datetime

LANGS: tuple[str, ...] = ("en", "hi")
DEFAULT_LANG = "en"

EN: dict[str, str] = {
    "app.title": "Arogya",
    "app.tagline": "Telemedicine at Ayushman Arogya Mandirs",
    "nav.overview": "State overview",
    "nav.compare": "Compare districts",
    "nav.district": "District",
    "nav.language": "हिन्दी",
    "nav.language.title": "Switch the language to Hindi",
    "filter.period": "Period",
    "filter.from": "From",
    "filter.to": "To",
    "filter.state": "State",
    "filter.district": "District",
    "filter.block": "Block",
    "filter.facility": "Facility",
    "filter.facility_type": "Facility type",
    "filter.mode": "Consultation mode",
    "filter.specialty": "Specialty",
    "filter.all": "All",
    "filter.reset": "Reset filters",
    "filter.showing": "{start} to {end} ({days} days)",
    "period.today": "Today",
    "period.last7": "Last 7 days",
    "period.last30": "Last 30 days",
    "period.last90": "Last 90 days",
    "period.this_month": "This month",
    "period.last_month": "Last month",
    "period.fy": "This financial year (Apr–Mar)",
    "period.custom": "Custom range",
    "mode.ABHWC": "eSanjeevani AB-HWC",
    "mode.OPD": "eSanjeevani OPD",
    "ftype.SC": "Sub-centre (SC)",
    "ftype.PHC": "Primary Health Centre (PHC)",
    "ftype.UPHC": "Urban PHC (UPHC)",
    "ftype.CHC": "Community Health Centre (CHC)",
    "ftype.SDH": "Sub-divisional hospital (SDH)",
    "ftype.DH": "District hospital (DH)",
    "ftype.MC": "Medical college (MC)",
    "role.hub": "Hub",
    "role.spoke": "Spoke",
    "fresh.label": "Data last loaded:",
    "fresh.never": "No data has been loaded yet.",
    "fresh.item": "{dataset} {when}",
    "dataset.consultations": "consultations",
    "dataset.facilities": "facilities",
    "dataset.chos": "CHOs",
    "dataset.schemes": "schemes",
    "dataset.status": "status",
    "state.loading": "Loading…",
    "state.empty": "No consultations in this period.",
    "state.empty_facilities": "No facilities match these filters.",
    "state.empty_rows": "Nothing to list.",
    "state.error": "This part of the page could not be loaded. Please try again; if it keeps failing, tell the "
                   "administrator (reference {ref}).",
    "state.no_scope": "Your account has no districts assigned, so there is nothing to show.",
    "state.no_boundaries": "District boundaries are not available on this server; the map cannot be drawn.",
    "export.csv": "Export CSV",
    "export.linelist": "Export consultations (line list)",
    "export.dictionary": "Data dictionary",
    "export.title": "Download the table behind this view as a CSV file (opens in Excel)",
    "kpi.consultations": "Consultations",
    "kpi.change": "{sign}{pct} vs previous {days} days",
    "kpi.change_none": "no consultations in the previous {days} days",
    "kpi.active_spokes": "Active spokes",
    "kpi.active_spokes_sub": "{active} of {total} spokes",
    "kpi.hubs": "Hubs serving",
    "kpi.hubs_sub": "hubs that answered a consultation",
    "kpi.chos": "Active CHOs",
    "kpi.chos_sub": "{active} of {total} CHOs",
    "kpi.wait": "Median wait",
    "kpi.wait_sub": "minutes, from joining the queue",
    "kpi.na": "–",
    "metric.label": "Colour districts by",
    "metric.consultations": "Consultations",
    "metric.per_active_spoke": "Consultations per active spoke",
    "metric.active_spoke_pct": "Active spokes (%)",
    "metric.median_wait": "Median wait (minutes)",
    "metric.referral_rate": "Referral rate (%)",
    "metric.blocks_breaching": "Blocks with fewer than two spokes",
    "grain.label": "Trend by",
    "grain.day": "Day",
    "grain.week": "Week",
    "grain.month": "Month",
    "overview.title": "Bihar at a glance",
    "overview.map": "Districts",
    "overview.map_hint": "Click a district to open it.",
    "overview.ranking": "District ranking",
    "overview.trend": "Consultations over time",
    "col.rank": "Rank",
    "col.district": "District",
    "col.district_lgd": "District LGD code",
    "col.consultations": "Consultations",
    "col.prev_consultations": "Consultations, previous period",
    "col.change_pct": "Change (%)",
    "col.spokes_total": "Spokes",
    "col.spokes_active": "Active spokes",
    "col.active_spoke_pct": "Active spokes (%)",
    "col.per_active_spoke": "Per active spoke",
    "col.hubs_serving": "Hubs serving",
    "col.median_wait": "Median wait (min)",
    "col.referral_rate": "Referral rate (%)",
    "col.blocks_total": "Blocks",
    "col.blocks_breaching": "Blocks with < 2 spokes",
    "col.trend": "Trend",
    "col.block": "Block",
    "col.block_lgd": "Block LGD code",
    "col.chos": "CHOs",
    "col.rule": "Two spokes per block",
    "col.rule_ok": "met",
    "col.rule_breach": "BREACH",
    "col.facility_id": "Facility ID",
    "col.facility": "Facility",
    "col.facility_type": "Type",
    "col.hub": "Assigned hub",
    "col.last_consultation": "Last consultation",
    "col.days_idle": "Days without a consultation",
    "col.cho_id": "CHO ID",
    "col.cho": "CHO",
    "col.last_active": "Last active",
    "col.days_silent": "Days silent",
    "col.metric": "Measure",
    "col.measure_code": "Measure code",
    "col.ranked": "Districts ranked",
    "col.role": "Role",
    "col.value": "Value",
    "col.day": "Day",
    "col.period": "Period",
    "col.mode": "Mode",
    "never": "never",
    "legend.hub": "Hub",
    "legend.spoke": "Spoke",
    "legend.spoke_idle": "Spoke, no consultation in period",
    "legend.links": "Hub–spoke consultations",
    "district.title": "{name} district",
    "district.choose": "Choose a district",
    "district.unknown": "District {lgd} is not known or not in your scope.",
    "district.map": "Facilities",
    "district.map_hint": "Large dots are hubs, small dots spokes; colour shows consultations in the period. "
                         "Click a facility for its detail.",
    "district.links": "Show hub→spoke links",
    "district.blocks": "Blocks",
    "district.idle": "Idle spokes (no consultation in the last 7 days)",
    "district.silent": "Silent CHOs (no activity for 7 days or more)",
    "district.as_of": "as of {date}",
    "district.back": "← State overview",
    "district.summary": "{n} facilities: {hubs} hubs, {spokes} spokes",
    "facility.title": "{name} ({type}, {role})",
    "facility.hint": "Click a facility on the map to see its last 30 days.",
    "facility.last30": "Consultations, last 30 days to {date}",
    "facility.total": "{n} consultations",
    "facility.its_hub": "Assigned hub",
    "facility.its_spokes": "Spokes served",
    "facility.partners": "Consulted with (last 30 days)",
    "facility.its_cho": "CHO",
    "facility.none": "none",
    "facility.unknown": "Facility {id} is not in this district.",
    "compare.title": "Compare districts",
    "compare.pick": "Pick 2 to 6 districts",
    "compare.need_two": "Pick at least two districts to compare.",
    "compare.too_many": "At most six districts can be compared; showing the first six.",
    "compare.trend": "Consultations per week",
    "compare.metrics": "Side by side",
    "compare.rank": "rank {rank} of {of}",
    "notfound.title": "Page not found",
    "notfound.body": "There is no page at this address.",
    "notfound.home": "Go to the state overview",
    "axis.consultations": "Consultations",
    "axis.date": "Date",
    "hover.consultations": "Consultations",
    "unit.minutes": "min",
    "short.lakh": "lakh",
    "short.crore": "crore",
    "short.thousand": "thousand",
    "dict.column": "Column",
    "dict.label": "Label",
    "dict.description": "Description",
}

HI: dict[str, str] = {
    "app.title": "आरोग्य",
    "app.tagline": "आयुष्मान आरोग्य मंदिरों की टेलीमेडिसिन",
    "nav.overview": "राज्य अवलोकन",
    "nav.compare": "जिलों की तुलना",
    "nav.district": "जिला",
    "nav.language": "English",
    "nav.language.title": "भाषा अंग्रेज़ी में बदलें",
    "filter.period": "अवधि",
    "filter.from": "से",
    "filter.to": "तक",
    "filter.state": "राज्य",
    "filter.district": "जिला",
    "filter.block": "प्रखंड",
    "filter.facility": "स्वास्थ्य केंद्र",
    "filter.facility_type": "केंद्र का प्रकार",
    "filter.mode": "परामर्श का प्रकार",
    "filter.specialty": "विशेषज्ञता",
    "filter.all": "सभी",
    "filter.reset": "फ़िल्टर हटाएँ",
    "filter.showing": "{start} से {end} ({days} दिन)",
    "period.today": "आज",
    "period.last7": "पिछले 7 दिन",
    "period.last30": "पिछले 30 दिन",
    "period.last90": "पिछले 90 दिन",
    "period.this_month": "इस माह",
    "period.last_month": "पिछला माह",
    "period.fy": "यह वित्तीय वर्ष (अप्रैल–मार्च)",
    "period.custom": "चुनी हुई अवधि",
    "mode.ABHWC": "ई-संजीवनी एबी-एचडब्ल्यूसी",
    "mode.OPD": "ई-संजीवनी ओपीडी",
    "ftype.SC": "उप-स्वास्थ्य केंद्र (SC)",
    "ftype.PHC": "प्राथमिक स्वास्थ्य केंद्र (PHC)",
    "ftype.UPHC": "शहरी प्राथमिक स्वास्थ्य केंद्र (UPHC)",
    "ftype.CHC": "सामुदायिक स्वास्थ्य केंद्र (CHC)",
    "ftype.SDH": "अनुमंडलीय अस्पताल (SDH)",
    "ftype.DH": "जिला अस्पताल (DH)",
    "ftype.MC": "मेडिकल कॉलेज (MC)",
    "role.hub": "हब",
    "role.spoke": "स्पोक",
    "fresh.label": "डेटा अंतिम बार लोड हुआ:",
    "fresh.never": "अभी तक कोई डेटा लोड नहीं हुआ है।",
    "fresh.item": "{dataset} {when}",
    "dataset.consultations": "परामर्श",
    "dataset.facilities": "स्वास्थ्य केंद्र",
    "dataset.chos": "सीएचओ",
    "dataset.schemes": "योजनाएँ",
    "dataset.status": "स्थिति",
    "state.loading": "लोड हो रहा है…",
    "state.empty": "इस अवधि में कोई परामर्श नहीं।",
    "state.empty_facilities": "इन फ़िल्टरों से कोई स्वास्थ्य केंद्र नहीं मिला।",
    "state.empty_rows": "दिखाने को कुछ नहीं।",
    "state.error": "पेज का यह भाग लोड नहीं हो सका। कृपया फिर से प्रयास करें; बार-बार ऐसा हो तो व्यवस्थापक को बताएँ "
                   "(संदर्भ {ref})।",
    "state.no_scope": "आपके खाते को कोई जिला नहीं सौंपा गया है, इसलिए दिखाने को कुछ नहीं है।",
    "state.no_boundaries": "इस सर्वर पर जिलों की सीमाएँ उपलब्ध नहीं हैं; नक्शा नहीं बन सकता।",
    "export.csv": "CSV निर्यात करें",
    "export.linelist": "परामर्श सूची निर्यात करें",
    "export.dictionary": "डेटा शब्दकोश",
    "export.title": "इस दृश्य की तालिका CSV फ़ाइल में डाउनलोड करें (एक्सेल में खुलती है)",
    "kpi.consultations": "परामर्श",
    "kpi.change": "पिछले {days} दिनों की तुलना में {sign}{pct}",
    "kpi.change_none": "पिछले {days} दिनों में कोई परामर्श नहीं",
    "kpi.active_spokes": "सक्रिय स्पोक",
    "kpi.active_spokes_sub": "{total} में से {active} स्पोक",
    "kpi.hubs": "सेवा दे रहे हब",
    "kpi.hubs_sub": "जिन हबों ने परामर्श दिया",
    "kpi.chos": "सक्रिय सीएचओ",
    "kpi.chos_sub": "{total} में से {active} सीएचओ",
    "kpi.wait": "मध्य प्रतीक्षा समय",
    "kpi.wait_sub": "मिनट, कतार में जुड़ने से",
    "kpi.na": "–",
    "metric.label": "जिलों का रंग इसके अनुसार",
    "metric.consultations": "परामर्श",
    "metric.per_active_spoke": "प्रति सक्रिय स्पोक परामर्श",
    "metric.active_spoke_pct": "सक्रिय स्पोक (%)",
    "metric.median_wait": "मध्य प्रतीक्षा (मिनट)",
    "metric.referral_rate": "रेफ़रल दर (%)",
    "metric.blocks_breaching": "दो से कम स्पोक वाले प्रखंड",
    "grain.label": "रुझान",
    "grain.day": "दिन",
    "grain.week": "सप्ताह",
    "grain.month": "माह",
    "overview.title": "बिहार एक नज़र में",
    "overview.map": "जिले",
    "overview.map_hint": "जिला खोलने के लिए उस पर क्लिक करें।",
    "overview.ranking": "जिलों की रैंकिंग",
    "overview.trend": "समय के साथ परामर्श",
    "col.rank": "रैंक",
    "col.district": "जिला",
    "col.district_lgd": "जिला एलजीडी कोड",
    "col.consultations": "परामर्श",
    "col.prev_consultations": "परामर्श, पिछली अवधि",
    "col.change_pct": "बदलाव (%)",
    "col.spokes_total": "स्पोक",
    "col.spokes_active": "सक्रिय स्पोक",
    "col.active_spoke_pct": "सक्रिय स्पोक (%)",
    "col.per_active_spoke": "प्रति सक्रिय स्पोक",
    "col.hubs_serving": "सेवा दे रहे हब",
    "col.median_wait": "मध्य प्रतीक्षा (मिनट)",
    "col.referral_rate": "रेफ़रल दर (%)",
    "col.blocks_total": "प्रखंड",
    "col.blocks_breaching": "2 से कम स्पोक वाले प्रखंड",
    "col.trend": "रुझान",
    "col.block": "प्रखंड",
    "col.block_lgd": "प्रखंड एलजीडी कोड",
    "col.chos": "सीएचओ",
    "col.rule": "प्रति प्रखंड दो स्पोक",
    "col.rule_ok": "पूरा",
    "col.rule_breach": "उल्लंघन",
    "col.facility_id": "केंद्र आईडी",
    "col.facility": "स्वास्थ्य केंद्र",
    "col.facility_type": "प्रकार",
    "col.hub": "निर्धारित हब",
    "col.last_consultation": "अंतिम परामर्श",
    "col.days_idle": "बिना परामर्श के दिन",
    "col.cho_id": "सीएचओ आईडी",
    "col.cho": "सीएचओ",
    "col.last_active": "अंतिम सक्रियता",
    "col.days_silent": "निष्क्रिय दिन",
    "col.metric": "माप",
    "col.measure_code": "माप कोड",
    "col.ranked": "रैंक किए गए जिले",
    "col.role": "भूमिका",
    "col.value": "मान",
    "col.day": "दिन",
    "col.period": "अवधि",
    "col.mode": "प्रकार",
    "never": "कभी नहीं",
    "legend.hub": "हब",
    "legend.spoke": "स्पोक",
    "legend.spoke_idle": "स्पोक, अवधि में कोई परामर्श नहीं",
    "legend.links": "हब–स्पोक परामर्श",
    "district.title": "जिला {name}",
    "district.choose": "जिला चुनें",
    "district.unknown": "जिला {lgd} ज्ञात नहीं है या आपके दायरे में नहीं है।",
    "district.map": "स्वास्थ्य केंद्र",
    "district.map_hint": "बड़े बिंदु हब हैं, छोटे बिंदु स्पोक; रंग अवधि के परामर्श दिखाता है। विवरण के लिए केंद्र पर "
                         "क्लिक करें।",
    "district.links": "हब→स्पोक संबंध दिखाएँ",
    "district.blocks": "प्रखंड",
    "district.idle": "निष्क्रिय स्पोक (पिछले 7 दिनों में कोई परामर्श नहीं)",
    "district.silent": "निष्क्रिय सीएचओ (7 या अधिक दिनों से कोई गतिविधि नहीं)",
    "district.as_of": "{date} तक",
    "district.back": "← राज्य अवलोकन",
    "district.summary": "{n} स्वास्थ्य केंद्र: {hubs} हब, {spokes} स्पोक",
    "facility.title": "{name} ({type}, {role})",
    "facility.hint": "पिछले 30 दिन देखने के लिए नक्शे पर किसी केंद्र पर क्लिक करें।",
    "facility.last30": "परामर्श, {date} तक पिछले 30 दिन",
    "facility.total": "{n} परामर्श",
    "facility.its_hub": "निर्धारित हब",
    "facility.its_spokes": "सेवा प्राप्त स्पोक",
    "facility.partners": "किनसे परामर्श हुआ (पिछले 30 दिन)",
    "facility.its_cho": "सीएचओ",
    "facility.none": "कोई नहीं",
    "facility.unknown": "केंद्र {id} इस जिले में नहीं है।",
    "compare.title": "जिलों की तुलना",
    "compare.pick": "2 से 6 जिले चुनें",
    "compare.need_two": "तुलना के लिए कम से कम दो जिले चुनें।",
    "compare.too_many": "अधिकतम छह जिलों की तुलना हो सकती है; पहले छह दिखाए जा रहे हैं।",
    "compare.trend": "प्रति सप्ताह परामर्श",
    "compare.metrics": "साथ-साथ",
    "compare.rank": "{of} में से रैंक {rank}",
    "notfound.title": "पेज नहीं मिला",
    "notfound.body": "इस पते पर कोई पेज नहीं है।",
    "notfound.home": "राज्य अवलोकन पर जाएँ",
    "axis.consultations": "परामर्श",
    "axis.date": "तारीख",
    "hover.consultations": "परामर्श",
    "unit.minutes": "मिनट",
    "short.lakh": "लाख",
    "short.crore": "करोड़",
    "short.thousand": "हज़ार",
    "dict.column": "कॉलम",
    "dict.label": "नाम",
    "dict.description": "विवरण",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "hi": HI}


def normalise_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``{placeholders}`` filled in."""
    text = CATALOGUES[normalise_lang(lang)].get(key) or EN.get(key) or key
    return text.format(**values) if values else text


def format_indian(value: float | int | None, decimals: int = 0) -> str:
    """Indian digit grouping: 12345678 → "1,23,45,678" (the last three digits, then pairs)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    negative = value < 0
    text = f"{abs(value):.{decimals}f}"
    whole, _, fraction = text.partition(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        pairs = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        whole = ",".join([head, *pairs, tail])
    out = whole + (f".{fraction}" if fraction else "")
    return f"-{out}" if negative else out


def format_short(value: float | int | None, lang: str | None = DEFAULT_LANG) -> str:
    """KPI-card form: below one lakh with grouping, then "12.3 lakh" and "1.23 crore"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    magnitude = abs(value)
    for unit, key in ((1e7, "short.crore"), (1e5, "short.lakh")):
        if magnitude >= unit:
            scaled = value / unit
            decimals = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f"{format_indian(scaled, decimals)} {t(key, lang)}"
    return format_indian(round(value))


def format_number(value: float | int | None, decimals: int = 0) -> str:
    return format_indian(value, decimals)


def format_pct(value: float | None, decimals: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{format_indian(value, decimals)}%"


def format_date(value: date | datetime | str | None) -> str:
    """dd-mm-yyyy (and HH:MM for a timestamp)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    return value.strftime("%d-%m-%Y")


def name_of(row: dict | object, lang: str | None, en: str = "name_en", hi: str = "name_hi") -> str:
    """A dimension row's name in ``lang`` (Hindi falls back to English when the Hindi name is blank)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k, None)  # type: ignore[union-attr]
    if normalise_lang(lang) == "hi" and get(hi):
        return str(get(hi))
    return str(get(en) or "")
