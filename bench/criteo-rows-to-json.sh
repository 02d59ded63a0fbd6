#!/usr/bin/env bash
# Usage: criteo-rows-to-json.sh FILE N  ->  {"rows": [...]} of the first N rows of a Criteo-layout
# TSV (label, I1..I13, C1..Cn), as POST /v1/predict takes them (empty values left out).
set -euo pipefail
head -n "$2" "$1" | awk -F'\t' '
BEGIN { printf "{\"rows\": [" }
{
  printf "%s{", (NR > 1 ? "," : ""); sep = ""
  for (i = 2; i <= NF; i++) {
    if ($i == "") continue
    if (i <= 14) printf "%s\"I%d\": %s", sep, i - 1, $i
    else printf "%s\"C%d\": \"%s\"", sep, i - 14, $i
    sep = ", "
  }
  printf "}"
}
END { print "]}" }'
