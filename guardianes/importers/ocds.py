"""Contracts from the Open Contracting Data Standard (OCDS): packages, records, releases.

Accepts what publishers serve: release packages (`releases`), record packages (`records`,
with embedded releases or only a `compiledRelease`), single releases (`ocid` at the top,
sometimes with the early `packageInfo` inside, as Mexico City's finance ministry serves
them), JSON lists of releases, and folders of such files. OCDS 1.0 and 1.1 shapes both
work: organizations given in full (1.0) or as references into `parties` (1.1), `amendment`
(1.0) or `amendments` (1.1), `procurementMethod` `limited` or `direct`.

Several releases of one `ocid` are merged into its latest state with the standard's merge
rules (later releases win field by field; arrays of objects with `id` merge by id), and
every release is kept as history: date, tags, values. Each contract of the compiled
release becomes one contract row (an award without a contract, one row for the award),
with its supplier as company and the red flags the data allows.

Pure: no database. Why not `ocdsmerge`: it downloads the release schema from
standard.open-contracting.org at run time (no network here, nor in a city's server room
necessarily) and pulls `requests`; the rules we need are short and tested below.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from guardianes.geo.normalize import normalize_company_name, normalize_rfc
from guardianes.importers.contracts import ContractRecord, ContractsFile, RiskIndicators
from guardianes.importers.files import describe_binary, read_bytes
from guardianes.importers.red_flags import compute_flags
from guardianes.importers.report import ImportFileError, Problem

Json = dict[str, Any]
# OCDS procurementMethod → the Mexican procedure codes the IMCO data uses.
_METHODS = {"open": "LP", "selective": "IR", "limited": "AD", "direct": "AD"}
_RATIONALE = (
    (re.compile(r"adjudicaci[oó]n\s+directa", re.IGNORECASE), "AD"),
    (re.compile(r"invitaci[oó]n", re.IGNORECASE), "IR"),
    (re.compile(r"licitaci[oó]n\s+p[uú]blica", re.IGNORECASE), "LP"),
)
_RFC = re.compile(r"^[A-ZÑ&]{3,4}\d{6}[A-Z0-9]{3}$")
_NUMBER_LIKE = re.compile(r"^\S{1,40}$")
_MAX_NATURAL_KEY = 600


@dataclass(frozen=True, slots=True)
class _Release:
    data: Json
    file: str
    where: str
    order: int


def parse_ocds(paths: list[Path]) -> ContractsFile:
    """Read OCDS files (or folders of them), merge releases by ocid, one record per contract."""
    files = _expand(paths)
    label = paths[0] if len(paths) == 1 else Path(f"{len(files)} OCDS files")
    releases: list[_Release] = []
    problems: list[Problem] = []
    for path in files:
        found, bad = _releases_of(path, start=len(releases))
        releases.extend(found)
        problems.extend(bad)
    by_ocid: dict[str, list[_Release]] = defaultdict(list)
    for release in releases:
        by_ocid[str(release.data["ocid"])].append(release)
    records: list[ContractRecord] = []
    for ocid, group in sorted(by_ocid.items()):
        ordered = sorted(group, key=lambda r: (_text(r.data.get("date")) or "", r.order))
        try:
            records.extend(_records(ocid, ordered))
        except ValueError as exc:
            first = ordered[-1]
            problems.append(Problem(first.file, first.where, f"ocid {ocid}: {exc}"))
    return ContractsFile(label, tuple(records), tuple(problems))


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json")
            if not inside:
                raise ImportFileError(path, "is a folder without .json files")
            files.extend(inside)
        else:
            files.append(path)
    return files


def _releases_of(path: Path, *, start: int) -> tuple[list[_Release], list[Problem]]:
    data = read_bytes(path)
    what = describe_binary(data[:4096])
    if what is not None:
        raise ImportFileError(path, f"is {what}, not OCDS JSON")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(path, f"is not JSON ({exc}); expected OCDS JSON") from None
    candidates: list[tuple[str, Any]]
    if isinstance(document, dict) and isinstance(document.get("releases"), list):
        candidates = [(f"release {i}", r) for i, r in enumerate(document["releases"], start=1)]
    elif isinstance(document, dict) and isinstance(document.get("records"), list):
        candidates = []
        for i, record in enumerate(document["records"], start=1):
            candidates.extend(_record_releases(record, i))
    elif isinstance(document, dict) and "ocid" in document:
        candidates = [("release", document)]
    elif isinstance(document, list) and document and all(isinstance(r, dict) for r in document):
        candidates = [(f"release {i}", r) for i, r in enumerate(document, start=1)]
    else:
        kind = (
            "GeoJSON (a map: import it with `guardianes import kml` or `import colonias`)"
            if isinstance(document, dict)
            and document.get("type") in {"FeatureCollection", "Feature"}
            else "JSON without releases, records or an ocid"
        )
        raise ImportFileError(
            path, f"is {kind}; expected OCDS: a release package, a record package or a release"
        )
    found: list[_Release] = []
    problems: list[Problem] = []
    for where, release in candidates:
        if not isinstance(release, dict):
            problems.append(Problem(path.name, where, "is not a JSON object"))
        elif not _text(release.get("ocid")):
            problems.append(Problem(path.name, where, "has no ocid"))
        elif "url" in release and not any(k in release for k in ("tender", "awards", "contracts")):
            problems.append(
                Problem(path.name, where, "is a linked release (a URL); give its package")
            )
        else:
            found.append(_Release(release, path.name, where, start + len(found)))
    return found, problems


def _record_releases(record: Any, index: int) -> list[tuple[str, Any]]:
    if not isinstance(record, dict):
        return [(f"record {index}", record)]
    embedded = [
        r
        for r in record.get("releases") or []
        if isinstance(r, dict) and any(k in r for k in ("tender", "awards", "contracts"))
    ]
    if embedded:
        return [(f"record {index} release {i}", r) for i, r in enumerate(embedded, start=1)]
    compiled = record.get("compiledRelease")
    if isinstance(compiled, dict):
        compiled.setdefault("ocid", record.get("ocid"))
        return [(f"record {index} compiledRelease", compiled)]
    return [(f"record {index}", {"url": "", "ocid": record.get("ocid")})]


# ---------------------------------------------------------------- merging


def merge_releases(releases: list[Json]) -> Json:
    """The compiled release: later releases win field by field (OCDS merge rules).

    Objects merge recursively; arrays of objects that all carry an `id` merge by id; other
    arrays are replaced whole; a null removes the field.
    """
    compiled: Json = {}
    for release in releases:
        compiled = _merge(compiled, release)
    compiled.pop("packageInfo", None)
    return compiled


def _merge(current: Any, update: Any) -> Any:
    if isinstance(current, dict) and isinstance(update, dict):
        merged = dict(current)
        for key, value in update.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _merge(merged.get(key), value)
        return merged
    both_identified = isinstance(current, list) and _identified(current) and _identified(update)
    if isinstance(update, list) and isinstance(current, list) and both_identified:
        by_id = {str(item["id"]): item for item in current}
        for item in update:
            key = str(item["id"])
            by_id[key] = _merge(by_id.get(key), item)
        return list(by_id.values())
    return update


def _identified(items: Any) -> bool:
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(i, dict) and "id" in i for i in items)
    )


# ---------------------------------------------------------------- compiled → contract rows


def _records(ocid: str, releases: list[_Release]) -> list[ContractRecord]:
    compiled = merge_releases([r.data for r in releases])
    history = [_history_entry(r) for r in releases]
    parties = _parties(compiled)
    tender = _object(compiled.get("tender"))
    awards = {str(a.get("id")): a for a in _objects(compiled.get("awards"))}
    contracts = _objects(compiled.get("contracts"))
    if not contracts:  # an award without a signed contract yet is still a public commitment
        contracts = [
            {"id": a.get("id"), "awardID": a.get("id"), "value": a.get("value")}
            for a in awards.values()
        ]
    if not contracts:
        raise ValueError("has no awards or contracts to import")
    procedure = _procedure(tender)
    tenderers = _tenderers(tender, parties)
    bidders_count = _int(tender.get("numberOfTenderers"))
    if bidders_count is None and tenderers:
        bidders_count = len(tenderers)
    tender_period = _object(tender.get("tenderPeriod"))
    records: list[ContractRecord] = []
    for contract in contracts:
        contract_id = _text(contract.get("id")) or "1"
        award = _object(awards.get(str(contract.get("awardID"))))
        supplier = _supplier(award, parties)
        first_value, last_value = _values(contract_id, releases, contract)
        title = _text(contract.get("title"))
        number = title if title and _NUMBER_LIKE.match(title) else contract_id
        flags = compute_flags(
            procedure_type=procedure,
            bidders_count=bidders_count,
            tender_start=_date(tender_period.get("startDate")),
            tender_end=_date(tender_period.get("endDate")),
            first_value=first_value,
            last_value=last_value,
        )
        signed = _date(contract.get("dateSigned")) or _date(award.get("date"))
        period = _object(contract.get("period"))
        amendments = _amendments(contract)
        records.append(
            ContractRecord(
                line=releases[-1].order + 1,
                natural_key=f"ocds:{ocid}:{contract_id}"[:_MAX_NATURAL_KEY],
                period=str(signed.year) if signed else None,
                agency=_buyer(compiled, tender, parties),
                process_number=ocid,
                contract_number=number,
                contract_date=signed,
                amount=last_value,
                object=_text(contract.get("description"))
                or _text(award.get("description"))
                or _text(tender.get("title")),
                subject=_text(tender.get("mainProcurementCategory")),
                procedure_type=procedure,
                company_name=supplier[0] if supplier else None,
                company_normalized_name=normalize_company_name(supplier[0]) if supplier else None,
                company_rfc=supplier[1] if supplier else None,
                company_constitution_date=None,
                call_date=_date(tender_period.get("startDate")),
                bases_date=None,
                proposals_date=_date(tender_period.get("endDate")),
                start_date=_date(period.get("startDate")),
                clarification_date=None,
                opening_date=None,
                ruling_date=_date(award.get("date")),
                bidders_count=bidders_count,
                solvent_bidders_count=None,
                bidders="; ".join(tenderers) or None,
                budgeted_amount=_amount(tender.get("value")),
                funding_source=None,
                settlement_date=None,
                settlement_amount=None,
                exception_basis=_text(tender.get("procurementMethodRationale")),
                exception_amount=None,
                risks=RiskIndicators(None, None, None, None, None, None, None),
                obligations=None,
                flags=flags,
                ocid=ocid,
                ocds_history={"releases": history, "amendments": amendments},
            )
        )
    return records


def _history_entry(release: _Release) -> Json:
    data = release.data
    return {
        "release_id": _text(data.get("id")),
        "date": _text(data.get("date")),
        "tag": data.get("tag") if isinstance(data.get("tag"), list) else None,
        "file": release.file,
        "tender_value": _json_amount(data.get("tender", {}).get("value"))
        if isinstance(data.get("tender"), dict)
        else None,
        "contract_values": {
            _text(c.get("id")) or "1": _json_amount(c.get("value"))
            for c in _objects(data.get("contracts"))
        },
    }


def _values(
    contract_id: str, releases: list[_Release], compiled_contract: Json
) -> tuple[Decimal | None, Decimal | None]:
    """The contract's first published value and its latest one."""
    seen: list[Decimal] = []
    for release in releases:
        for contract in _objects(release.data.get("contracts")):
            if (_text(contract.get("id")) or "1") == contract_id:
                amount = _amount(contract.get("value"))
                if amount is not None:
                    seen.append(amount)
    for amendment in _amendments(compiled_contract):
        # OCDS 1.0 amendments may carry the value before the change.
        before = amendment.get("value_before")
        if before is not None:
            seen.insert(0, Decimal(before))
    last = _amount(compiled_contract.get("value"))
    if not seen:
        return last, last
    return seen[0], last if last is not None else seen[-1]


def _amendments(contract: Json) -> list[Json]:
    """Explicit amendments, 1.1 `amendments` or 1.0 `amendment`, reduced to what we show."""
    raw = _objects(contract.get("amendments"))
    if isinstance(contract.get("amendment"), dict):
        raw = [*raw, contract["amendment"]]
    out: list[Json] = []
    for amendment in raw:
        entry: Json = {
            "date": _text(amendment.get("date")),
            "rationale": _text(amendment.get("rationale")),
            "description": _text(amendment.get("description")),
        }
        for change in _objects(amendment.get("changes")):  # OCDS 1.0: property + former_value
            if change.get("property") in {"value", "value/amount"}:
                former = change.get("former_value")
                amount = former.get("amount") if isinstance(former, dict) else former
                if isinstance(amount, int | float | str):
                    entry["value_before"] = str(amount)
        out.append(entry)
    return out


def _parties(compiled: Json) -> dict[str, Json]:
    return {str(p.get("id")): p for p in _objects(compiled.get("parties")) if p.get("id")}


def _org(reference: Json, parties: dict[str, Json]) -> tuple[str, str | None] | None:
    """Name and RFC of an organization given in full (1.0) or as a reference (1.1)."""
    party = parties.get(str(reference.get("id")), {})
    identifier = reference.get("identifier") or party.get("identifier") or {}
    identifier = identifier if isinstance(identifier, dict) else {}
    name = (
        _text(party.get("name"))
        or _text(reference.get("name"))
        or _text(identifier.get("legalName"))
    )
    if not name:
        return None
    tax_id = normalize_rfc(_text(identifier.get("id")))
    return name, tax_id if tax_id and _RFC.match(tax_id) else None


def _supplier(award: Json, parties: dict[str, Json]) -> tuple[str, str | None] | None:
    for supplier in _objects(award.get("suppliers")):
        found = _org(supplier, parties)
        if found is not None:
            return found
    return None


def _tenderers(tender: Json, parties: dict[str, Json]) -> list[str]:
    names = [found[0] for t in _objects(tender.get("tenderers")) if (found := _org(t, parties))]
    if not names:
        names = [
            _text(p.get("name")) or ""
            for p in parties.values()
            if "tenderer" in (p.get("roles") or [])
        ]
    return sorted({n for n in names if n})


def _buyer(compiled: Json, tender: Json, parties: dict[str, Json]) -> str | None:
    for candidate in (compiled.get("buyer"), tender.get("procuringEntity")):
        if isinstance(candidate, dict) and (found := _org(candidate, parties)):
            return found[0]
    return None


def _procedure(tender: Json) -> str | None:
    method = _METHODS.get((_text(tender.get("procurementMethod")) or "").lower())
    rationale = " ".join(
        _text(tender.get(k)) or ""
        for k in ("procurementMethodDetails", "procurementMethodRationale")
    )
    for pattern, code in _RATIONALE:
        if pattern.search(rationale):
            return code
    return method


# ---------------------------------------------------------------- cells


def _object(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[Json]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _amount(value: Any) -> Decimal | None:
    if not isinstance(value, dict):
        return None
    raw = value.get("amount")
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _json_amount(value: Any) -> str | None:
    amount = _amount(value)
    return str(amount) if amount is not None else None


def _date(value: Any) -> date | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
