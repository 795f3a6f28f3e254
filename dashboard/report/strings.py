"""The district review report's texts (English and Hindi). ``dashboard.i18n`` merges them into its catalogues, so
``t()`` stays the one way to a user-facing string."""

from __future__ import annotations

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
MONTHS_HI = ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर")

EN: dict[str, str] = {
    "report.control": "Review report",
    "report.control.hint": "The district's monthly review report for printing: key figures, map, blocks, idle "
                           "spokes, silent CHOs and scheme achievement, in the page's language.",
    "report.month": "Month",
    "report.pdf": "PDF",
    "report.pdf.title": "Download the review report as a PDF (A4); it is prepared on the server, which can take "
                        "up to a minute",
    "report.png": "PNG",
    "report.png.title": "Download the review report as one PNG image; it is prepared on the server, which can "
                        "take up to a minute",
    "report.view": "Print view",
    "report.view.title": "Open the review report in the browser, ready to print",
    "report.month.label": "{month} {year}",
    "report.month.partial": "{month} (so far)",
    "report.title": "District review report",
    "report.heading": "{district} district · {month}",
    "report.period": "Period: {start} to {end} ({days} days). Whole district: every consultation mode and "
                     "specialty.",
    "report.generated": "Generated on {date}",
    "report.kpis": "Key figures",
    "report.map": "Facilities and consultations in the month",
    "report.map_note": "Large dots are hubs, small dots spokes; colour shows the month's consultations, and idle "
                       "spokes have their own colour (see the legend). {n} facilities, of which {spokes} spokes.",
    "report.print": "Print",
    "report.map_failed": "The map could not be drawn here; the tables below hold the same facilities.",
    "report.blocks_breaching": "{n} of {total} blocks have fewer than two spokes.",
    "report.idle_count": "{n} of {total} spokes",
    "report.silent_count": "{n} of {total} active CHOs",
    "report.schemes": "Scheme achievement",
    "report.schemes_none": "No scheme values were reported for this district in the month.",
    "report.page": "Page",
    "report.error.month": "month must be a calendar month written YYYY-MM, e.g. 2025-08 (got {value}).",
    "report.error.future": "{month} has not started yet: choose this month or an earlier one.",
    "report.error.district": "District {lgd} is not known or not in your scope.",
    "report.error.chromium": "PDF and PNG reports need the Chromium browser on the server, which was not found at "
                             "{path}. Ask the administrator to install it (apt-get install chromium) or to set "
                             "AROGYA_REPORT_CHROMIUM. The print view works without it.",
    "report.error.busy": "Other reports are being prepared right now. Please try again in a minute.",
    "report.error.timeout": "The report took longer than {seconds} seconds to prepare and was stopped. Please try "
                            "again; if it keeps happening, tell the administrator.",
    "report.error.failed": "The report could not be prepared. Please try again; if it keeps failing, tell the "
                           "administrator (reference {ref}).",
    **{f"report.monthname.{i}": name for i, name in enumerate(MONTHS_EN, start=1)},
}

HI: dict[str, str] = {
    "report.control": "समीक्षा रिपोर्ट",
    "report.control.hint": "छपाई के लिए जिले की मासिक समीक्षा रिपोर्ट: मुख्य आंकड़े, नक्शा, प्रखंड, निष्क्रिय स्पोक, "
                           "निष्क्रिय सीएचओ और योजनाओं की उपलब्धि, पेज की भाषा में।",
    "report.month": "माह",
    "report.pdf": "PDF",
    "report.pdf.title": "समीक्षा रिपोर्ट PDF (A4) के रूप में डाउनलोड करें; यह सर्वर पर तैयार होती है, जिसमें एक मिनट तक "
                        "लग सकता है",
    "report.png": "PNG",
    "report.png.title": "समीक्षा रिपोर्ट एक PNG चित्र के रूप में डाउनलोड करें; यह सर्वर पर तैयार होती है, जिसमें एक "
                        "मिनट तक लग सकता है",
    "report.view": "प्रिंट दृश्य",
    "report.view.title": "समीक्षा रिपोर्ट ब्राउज़र में खोलें, छपाई के लिए तैयार",
    "report.month.label": "{month} {year}",
    "report.month.partial": "{month} (अब तक)",
    "report.title": "जिला समीक्षा रिपोर्ट",
    "report.heading": "जिला {district} · {month}",
    "report.period": "अवधि: {start} से {end} ({days} दिन)। पूरा जिला: परामर्श के सभी माध्यम और विशेषज्ञताएँ।",
    "report.generated": "{date} को तैयार",
    "report.kpis": "मुख्य आंकड़े",
    "report.map": "माह में स्वास्थ्य केंद्र और परामर्श",
    "report.map_note": "बड़े बिंदु हब हैं, छोटे बिंदु स्पोक; रंग माह के परामर्श दिखाता है, और निष्क्रिय स्पोक का अपना रंग "
                       "है (संकेत-सूची देखें)। {n} स्वास्थ्य केंद्र, जिनमें {spokes} स्पोक।",
    "report.print": "प्रिंट करें",
    "report.map_failed": "नक्शा यहाँ नहीं बन सका; नीचे की तालिकाओं में वही स्वास्थ्य केंद्र हैं।",
    "report.blocks_breaching": "{total} में से {n} प्रखंडों में दो से कम स्पोक हैं।",
    "report.idle_count": "{total} में से {n} स्पोक",
    "report.silent_count": "{total} सक्रिय सीएचओ में से {n}",
    "report.schemes": "योजनाओं की उपलब्धि",
    "report.schemes_none": "इस माह जिले के लिए योजनाओं का कोई मान रिपोर्ट नहीं हुआ।",
    "report.page": "पृष्ठ",
    "report.error.month": "month एक कैलेंडर माह होना चाहिए, YYYY-MM के रूप में, जैसे 2025-08 (मिला: {value})।",
    "report.error.future": "{month} अभी शुरू नहीं हुआ है: यह माह या इससे पहले का माह चुनें।",
    "report.error.district": "जिला {lgd} ज्ञात नहीं है या आपके दायरे में नहीं है।",
    "report.error.chromium": "PDF और PNG रिपोर्ट के लिए सर्वर पर क्रोमियम ब्राउज़र चाहिए, जो {path} पर नहीं मिला। "
                             "प्रशासक से इसे इंस्टॉल करने (apt-get install chromium) या AROGYA_REPORT_CHROMIUM "
                             "सेट करने को कहें। प्रिंट दृश्य इसके बिना भी काम करता है।",
    "report.error.busy": "इस समय अन्य रिपोर्टें तैयार हो रही हैं। कृपया एक मिनट बाद फिर कोशिश करें।",
    "report.error.timeout": "रिपोर्ट तैयार होने में {seconds} सेकंड से अधिक लगे, इसलिए रोक दी गई। कृपया फिर कोशिश करें; "
                            "बार-बार ऐसा हो तो प्रशासक को बताएँ।",
    "report.error.failed": "रिपोर्ट तैयार नहीं हो सकी। कृपया फिर कोशिश करें; बार-बार विफल हो तो प्रशासक को बताएँ "
                           "(संदर्भ {ref})।",
    **{f"report.monthname.{i}": name for i, name in enumerate(MONTHS_HI, start=1)},
}
