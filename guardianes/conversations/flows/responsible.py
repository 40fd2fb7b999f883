"""«¿Quién es responsable?»: who must deliver the services at the space nearest a location."""

from __future__ import annotations

from guardianes.conversations.context import SpaceMatch
from guardianes.conversations.flows import common, menu
from guardianes.conversations.messages import GeoPoint, InboundKind, PromptKind
from guardianes.conversations.state import FlowStep
from guardianes.conversations.turn import Route, Turn


class Step(FlowStep):
    """Waiting for the location."""

    RESPONSIBLE = "resp"


def ask_responsible(turn: Turn) -> None:
    """Ask where the guardian is."""
    turn.goto(Step.RESPONSIBLE)
    turn.ask(scope="resp", text=turn.t("resp.ask"), kind=PromptKind.LOCATION)


def on_responsible(turn: Turn) -> None:
    """Tell who must deliver the services at the space nearest the location."""
    inbound = turn.inbound
    if inbound.kind is not InboundKind.LOCATION or inbound.location is None:
        common.retry(turn, "form.expect.location")
        return
    match = turn.ctx.gazetteer.space_at(inbound.location)
    turn.say(describe_space(turn, match, inbound.location))
    menu.show_menu(turn)


def describe_space(turn: Turn, match: SpaceMatch | None, point: GeoPoint) -> str:
    """A readable answer to "who is responsible for this place?"."""
    if match is None:
        return turn.t("resp.nothing_near")
    name = f"{match.name} ({match.code})" if match.code else match.name
    lines = [
        turn.t("resp.space", space=name)
        if match.inside
        else turn.t("resp.space_near", space=name, meters=round(match.distance_m))
    ]
    if not match.responsible:
        lines.append(turn.t("resp.no_party"))
    for party in match.responsible:
        kind = turn.t(
            "resp.kind.contractor" if party.kind == "contractor" else "resp.kind.municipality"
        )
        lines.append(
            turn.t(
                "resp.party",
                service=common.service_label(turn, party.service),
                name=party.name,
                kind=kind,
            )
        )
        if party.directorate:
            lines.append(turn.t("resp.directorate", directorate=party.directorate))
        if party.contract_number:
            lines.append(turn.t("resp.contract", number=party.contract_number))
        if party.company_contracts:
            lines.append(
                turn.t(
                    "reports.company_record_one"
                    if party.company_contracts == 1
                    else "reports.company_record",
                    contracts=party.company_contracts,
                    direct=party.company_direct_awards or 0,
                )
            )
        if party.contract_object:
            lines.append(turn.t("resp.object", text=party.contract_object))
        if party.obligations:
            lines.append(turn.t("resp.obligations", text=party.obligations))
    return "\n".join(lines)


ROUTES = {Step.RESPONSIBLE: Route(ask_responsible, on_responsible)}
