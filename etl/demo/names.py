"""Name lists for the demo: plausible staff names (stored: CHOs are staff) and obviously fake patient names
(which the ETL must drop)."""

from __future__ import annotations

import numpy as np

FEMALE_FIRST = (
    "Priya", "Puja", "Anjali", "Nisha", "Khushboo", "Sweta", "Ritu", "Neha", "Kajal", "Sunita", "Rinki", "Pinki",
    "Soni", "Jyoti", "Manisha", "Archana", "Nikki", "Shabnam", "Farzana", "Rukhsar", "Sapna", "Kiran", "Anita",
    "Rani", "Madhu", "Poonam", "Sangita", "Babita", "Mamta", "Nazia", "Tabassum", "Komal", "Preeti", "Ranjana",
)  # fmt: skip
MALE_FIRST = (
    "Rahul", "Amit", "Ravi", "Sanjay", "Manish", "Rakesh", "Vikash", "Abhishek", "Imran", "Sunil", "Pankaj",
    "Rajesh", "Santosh", "Ashish", "Nitish", "Mukesh", "Deepak", "Arvind", "Sonu", "Gautam", "Shahid", "Tanveer",
    "Alok", "Rohit", "Vivek", "Niraj", "Chandan", "Ajit", "Dilip", "Prabhat",
)  # fmt: skip
FEMALE_LAST = ("Kumari", "Kumari", "Devi", "Singh", "Sinha", "Jha", "Mishra", "Khatoon", "Parveen", "Bharti",
               "Yadav", "Gupta", "Verma", "Rani", "Paswan")
MALE_LAST = ("Kumar", "Kumar", "Singh", "Yadav", "Prasad", "Jha", "Mishra", "Sinha", "Paswan", "Ansari", "Alam",
             "Das", "Mandal", "Sah", "Gupta", "Choudhary", "Thakur", "Pandey", "Tiwari", "Rai", "Ranjan", "Ram",
             "Manjhi", "Raj", "Sharma")

# Patient names in some export files: obviously not real people.
FAKE_PATIENT_NAMES = ("DEMO PATIENT", "TEST ROGI", "SAMPLE NAAM", "नमूना मरीज", "डेमो रोगी", "XYZ TEST")
FAKE_VILLAGES = ("DEMO VILLAGE", "नमूना गाँव", "TEST GRAM")


def staff_names(rng: np.random.Generator, n: int, female_share: float = 0.62) -> list[str]:
    female = rng.random(n) < female_share
    out: list[str] = []
    for is_f in female:
        if is_f:
            out.append(f"{FEMALE_FIRST[rng.integers(len(FEMALE_FIRST))]} {FEMALE_LAST[rng.integers(len(FEMALE_LAST))]}")
        else:
            out.append(f"{MALE_FIRST[rng.integers(len(MALE_FIRST))]} {MALE_LAST[rng.integers(len(MALE_LAST))]}")
    return out
