"""The emulator enforces X API v2 semantics and X's 2026 rules, seen through real tweepy over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import tweepy

from tests.conftest import BRAND_ID, Brand
from tests.helpers import PAST_X_TIMEOUT, X_TIMEOUT
from turnaround.adapters.x_api import XApi
from turnaround.adapters.x_http import RoutingTimeoutAdapter, build_client
from turnaround.exceptions import (
    MalformedXResponse,
    XApiError,
    XApiUnavailable,
    XBlockedByCustomer,
    XCreditsExhausted,
    XDirectMessageRefused,
    XPostDeleted,
    XRateLimited,
    XUnauthorized,
    XUsageCapped,
)
from x_emulator import XApiEmulator, load_scenario


@pytest.fixture
def client(emulator: XApiEmulator, brand: Brand) -> tweepy.Client:
    return build_client(brand.credentials, base_url=emulator.base_url, timeout=X_TIMEOUT)


@pytest.fixture
def jane(emulator: XApiEmulator):
    return emulator.add_user("jane", followers=1200)


def _every_mention_id(x_api: XApi, *, max_results: int) -> list[str]:
    """Follow next_token until X has no more pages."""
    seen: list[str] = []
    token = None
    while True:
        page, _ = x_api.mentions_page(BRAND_ID, max_results=max_results, pagination_token=token)
        seen += [t.id for t in page.data]
        token = page.meta.next_token
        if not token:
            return seen


def _status(exc: pytest.ExceptionInfo[tweepy.HTTPException]) -> tuple[int, str]:
    body = exc.value.response.json()
    return exc.value.response.status_code, body["detail"]


def test_mentions_page_newest_first_with_meta_and_expansions(emulator, x_api, jane, clock):
    posts = [emulator.add_post("jane", f"@acmeair post {i}") for i in range(12)]
    clock.advance(1)

    page, limit = x_api.mentions_page(BRAND_ID, max_results=5)

    assert [t.id for t in page.data] == [p.id for p in reversed(posts)][:5]
    assert page.meta.newest_id == posts[-1].id and page.meta.oldest_id == posts[-5].id
    assert page.meta.result_count == 5 and page.meta.next_token
    assert (
        page.includes.users[0].username == "jane"
        and page.includes.users[0].public_metrics.followers_count == 1200
    )
    assert page.data[0].conversation_id == posts[-1].id and page.data[0].created_at is not None
    assert limit.limit == 300 and limit.remaining == 299


def test_pagination_walks_every_mention_once(emulator, x_api, jane, clock):
    posts = [emulator.add_post("jane", f"@acmeair n{i}") for i in range(23)]
    clock.advance(1)
    assert _every_mention_id(x_api, max_results=10) == [p.id for p in reversed(posts)]


def test_since_id_and_until_id_are_exclusive(emulator, x_api, jane, clock):
    posts = [emulator.add_post("jane", f"@acmeair n{i}") for i in range(6)]
    clock.advance(1)
    page, _ = x_api.mentions_page(BRAND_ID, since_id=posts[2].id, max_results=10)
    assert [t.id for t in page.data] == [posts[5].id, posts[4].id, posts[3].id]
    page, _ = x_api.mentions_page(BRAND_ID, since_id=posts[1].id, until_id=posts[4].id, max_results=10)
    assert [t.id for t in page.data] == [posts[3].id, posts[2].id]
    page, _ = x_api.mentions_page(BRAND_ID, since_id=posts[5].id, max_results=10)
    assert page.data == [] and page.meta.result_count == 0 and page.meta.newest_id is None


def test_only_the_newest_800_mentions_are_reachable(emulator, x_api, jane, clock):
    posts = [emulator.add_post("jane", f"@acmeair n{i}") for i in range(830)]
    clock.advance(1)
    seen = _every_mention_id(x_api, max_results=100)
    assert len(seen) == 800
    assert seen[-1] == posts[30].id  # the 30 oldest are beyond the timeline's depth


def test_future_posts_appear_when_the_clock_reaches_them(emulator, x_api, jane, clock):
    emulator.add_post("jane", "@acmeair later", at=clock.now() + timedelta(minutes=5))
    assert x_api.mentions_page(BRAND_ID, max_results=5)[0].data == []
    clock.advance(301)
    assert len(x_api.mentions_page(BRAND_ID, max_results=5)[0].data) == 1


def test_max_results_outside_5_to_100_is_a_400(client):
    with pytest.raises(tweepy.BadRequest) as exc:
        client.get_users_mentions(BRAND_ID, max_results=101, user_auth=True)
    assert "between 5 and 100" in exc.value.response.json()["errors"][0]["message"]


def test_missing_or_forged_oauth_is_401(emulator, brand, client):
    app_only = tweepy.Client(bearer_token="app-only-token")
    app_only.session.mount(
        "https://api.twitter.com/", RoutingTimeoutAdapter(timeout=1, base_url=emulator.base_url)
    )
    with pytest.raises(tweepy.Unauthorized):  # owned reads and writes need user context
        app_only.get_users_mentions(BRAND_ID)
    forged = build_client(
        brand.credentials.model_copy(update={"consumer_secret": brand.credentials.access_token}),
        base_url=emulator.base_url,
    )
    with pytest.raises(XUnauthorized, match="Invalid OAuth signature"):
        XApi(client=forged).me()
    response = requests.get(f"{emulator.base_url}/2/users/me", timeout=2)
    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


def test_reply_only_to_posts_that_mention_us(emulator, client, jane):
    summoned = emulator.add_post("jane", "@acmeair my bag is lost")
    unsummoned = emulator.add_post("jane", "airlines are all the same")
    created = client.create_tweet(
        text="@jane sorry to hear that /AB", in_reply_to_tweet_id=summoned.id, user_auth=True
    )
    assert created.status_code == 201
    with pytest.raises(tweepy.Forbidden) as exc:
        client.create_tweet(text="@jane we can help /AB", in_reply_to_tweet_id=unsummoned.id, user_auth=True)
    assert _status(exc) == (
        403,
        "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
        "engaged by the author of the post you are replying to.",
    )
    assert [v.rule for v in emulator.violations] == ["unsummoned_reply"]


def test_a_reply_carries_x_automatic_mentions_which_do_not_summon(emulator, client, x_api, jane, clock):
    """X prefixes a reply with @ of the parent's author and of everyone the parent mentions; those
    mentions are in entities.mentions and the mentions timeline, but only typed ones summon."""
    complaint = emulator.add_post("jane", "@acmeair my bag is lost")
    ack = client.create_tweet(text="@jane so sorry /AB", in_reply_to_tweet_id=complaint.id, user_auth=True)
    clock.advance(1)
    thanks = emulator.add_post("jane", "thanks, found it!", reply_to=ack.json()["data"]["id"])
    typed = emulator.add_post("jane", "and @acmeair the crew was great", reply_to=ack.json()["data"]["id"])
    clock.advance(1)
    page, _ = x_api.mentions_page(BRAND_ID, max_results=5)
    by_id = {t.id: t for t in page.data}
    assert by_id[thanks.id].text == "@acmeair thanks, found it!"
    assert by_id[thanks.id].display_text_range == (9, 26)
    assert [m.username for m in by_id[thanks.id].entities.mentions] == ["acmeair"]
    assert by_id[thanks.id].explicitly_mentions("acmeair") is False
    assert by_id[typed.id].explicitly_mentions("acmeair") is True
    with pytest.raises(tweepy.Forbidden, match="not been mentioned"):
        client.create_tweet(text="@jane glad to hear /AB", in_reply_to_tweet_id=thanks.id, user_auth=True)
    assert client.create_tweet(
        text="@jane we will tell them /AB", in_reply_to_tweet_id=typed.id, user_auth=True
    )


def test_unknown_query_parameters_are_refused_as_x_does(client, x_api):
    with pytest.raises(tweepy.BadRequest) as exc:
        client.get_direct_message_events(since_id="1", user_auth=True)
    error = exc.value.response.json()["errors"][0]
    assert error["parameters"] == {"since_id": ["1"]}
    assert error["message"] == (
        "The query parameter [since_id] is not one of [max_results,pagination_token,event_types,"
        "dm_event.fields,expansions,media.fields,user.fields,tweet.fields,post.fields]"
    )
    assert "x-rate-limit-remaining" in exc.value.response.headers  # refusals carry the headers too


def test_since_id_must_be_less_than_until_id(x_api):
    with pytest.raises(XApiError, match="400"):
        x_api.mentions_page(BRAND_ID, since_id="20", until_id="10")


def test_previous_token_pages_back(emulator, client, jane, clock):
    posts = [emulator.add_post("jane", f"@acmeair n{i}") for i in range(12)]
    clock.advance(1)
    first = client.get_users_mentions(BRAND_ID, max_results=5, user_auth=True).json()
    assert "previous_token" not in first["meta"]
    second = client.get_users_mentions(
        BRAND_ID, max_results=5, pagination_token=first["meta"]["next_token"], user_auth=True
    ).json()
    back = client.get_users_mentions(
        BRAND_ID, max_results=5, pagination_token=second["meta"]["previous_token"], user_auth=True
    ).json()
    assert (
        [t["id"] for t in back["data"]] == [t["id"] for t in first["data"]] == [p.id for p in posts[::-1][:5]]
    )


def test_unknown_user_is_200_with_errors(client):
    response = client.get_users_mentions("999999", user_auth=True)
    body = response.json()
    assert response.status_code == 200 and "data" not in body
    assert body["errors"][0]["resource_type"] == "user" and body["errors"][0]["value"] == "999999"


def test_the_project_reads_200_with_only_errors_as_a_clear_error(x_api):
    with pytest.raises(XApiError, match=r"Could not find user with id: \[999999\]") as exc:
        x_api.mentions_page("999999")
    assert not isinstance(exc.value, MalformedXResponse) and exc.value.status == 200


def test_mention_reads_are_owned_only_for_the_app_owner(emulator, x_api, jane, clock):
    emulator.add_post("jane", "@acmeair a")
    clock.advance(1)
    emulator.app_owner = "someone_else"
    x_api.mentions_page(BRAND_ID, max_results=5)
    assert emulator.ledger.units == {"post_read": 1}


def test_reply_to_a_post_quoting_us_is_allowed(emulator, client, jane):
    ours = emulator.add_post("acmeair", "New routes to Lisbon this winter")
    quote = emulator.add_post("jane", "lol they cancelled mine twice", quote_of=ours.id)
    response = client.create_tweet(
        text="@jane sorry, can we help? /AB", in_reply_to_tweet_id=quote.id, user_auth=True
    )
    assert response.status_code == 201 and emulator.violations == []


def test_one_automated_reply_per_interaction_is_policy_recorded_not_refused(emulator, client, jane):
    """X enforces it by suspending the account, not over HTTP: the post is made and the breach recorded."""
    post = emulator.add_post("jane", "@acmeair where is my refund")
    client.create_tweet(text="@jane looking into it /AB", in_reply_to_tweet_id=post.id, user_auth=True)
    second = client.create_tweet(text="@jane any news? /AB", in_reply_to_tweet_id=post.id, user_auth=True)
    assert second.status_code == 201
    assert [v.rule for v in emulator.violations] == ["second_reply_to_interaction"]
    assert len(emulator.posts_created(by="acmeair")) == 2


def test_duplicate_text_is_refused(emulator, client, jane):
    first = emulator.add_post("jane", "@acmeair delayed again")
    second = emulator.add_post("jane", "@acmeair still delayed")
    client.create_tweet(text="@jane so sorry /AB", in_reply_to_tweet_id=first.id, user_auth=True)
    with pytest.raises(tweepy.Forbidden) as exc:
        client.create_tweet(text="@jane  so sorry /AB", in_reply_to_tweet_id=second.id, user_auth=True)
    assert _status(exc) == (403, "You are not allowed to create a Tweet with duplicate content.")


def test_a_deleted_post_leaves_the_timeline_and_a_reply_to_it_is_xs_403(emulator, client, x_api, jane, clock):
    kept = emulator.add_post("jane", "@acmeair delayed again")
    angry = emulator.add_post("jane", "@acmeair worst airline, never again")
    clock.advance(1)
    emulator.delete_post(angry.id)
    page, _ = x_api.mentions_page(BRAND_ID, max_results=5)
    assert [t.id for t in page.data] == [kept.id]
    with pytest.raises(tweepy.Forbidden) as exc:
        client.create_tweet(text="@jane so sorry /AB", in_reply_to_tweet_id=angry.id, user_auth=True)
    assert _status(exc) == (403, "You attempted to reply to a Tweet that is deleted or not visible to you.")
    with pytest.raises(XPostDeleted):  # what the workflow's ack and the reps' replies read
        x_api.reply(angry.id, "@jane so sorry /AB")
    assert emulator.violations == []  # the customer's choice, not a rule we broke


def test_a_customer_who_blocks_us_gets_no_reply_or_dm_and_it_is_not_our_violation(
    emulator, client, x_api, jane, clock
):
    earlier = emulator.add_post("jane", "@acmeair delayed again")
    emulator.add_dm("jane", "acmeair", "my booking ref is XK42P")  # she wrote to us first
    clock.advance(1)
    x_api.reply(earlier.id, "@jane so sorry, we're on it /AB")  # before she blocks us: delivered
    emulator.block("jane", "acmeair")
    angry = emulator.add_post("jane", "@acmeair blocked. never again")
    clock.advance(1)
    page, _ = x_api.mentions_page(BRAND_ID, max_results=5)  # her mention still reaches us
    assert angry.id in [t.id for t in page.data]
    with pytest.raises(tweepy.Forbidden) as exc:
        client.create_tweet(text="@jane we hear you /AB", in_reply_to_tweet_id=angry.id, user_auth=True)
    assert _status(exc) == (403, "You have been blocked from the author of this tweet.")
    with pytest.raises(XBlockedByCustomer):  # what the workflow's ack and the reps' replies read
        x_api.reply(angry.id, "@jane we hear you /AB")
    with pytest.raises(XDirectMessageRefused):  # even though she DMed us before
        x_api.send_dm(jane.id, "Could you tell us more?")
    assert emulator.violations == []  # her choice, not a rule we broke


def test_an_edit_is_a_new_post_that_replaces_the_old_on_timelines_as_x_documents(
    emulator, client, x_api, jane, clock
):
    first = emulator.add_post("jane", "@acmeair my flihgt is late")
    clock.advance(60)
    edited = emulator.edit_post(first.id, "@acmeair my flight is late")
    clock.advance(1)
    page, _ = x_api.mentions_page(BRAND_ID, max_results=5)
    [latest] = page.data
    assert latest.id == edited.id and int(edited.id) > int(first.id)
    assert latest.edit_history_tweet_ids == [first.id, edited.id] and latest.edit_of == first.id
    # An earlier version stays readable by id: a reply to it is allowed.
    client.create_tweet(text="@jane sorry about that /AB", in_reply_to_tweet_id=first.id, user_auth=True)
    # X's edit rules: 30 minutes from the first version, and no edits of replies to others.
    reply = emulator.add_post("jane", "me too", reply_to=emulator.posts_created(by="acmeair")[0].id)
    with pytest.raises(ValueError, match="reply to someone else"):
        emulator.edit_post(reply.id, "me too!!")
    clock.advance(30 * 60)
    with pytest.raises(ValueError, match="can no longer be edited"):
        emulator.edit_post(edited.id, "@acmeair my flight is 3 hours late")
    emulator.delete_post(first.id)  # deleting one version deletes the chain
    assert [t.id for t in x_api.mentions_page(BRAND_ID, max_results=5)[0].data] == [reply.id]


def test_reply_carries_a_dm_deep_link_to_us_only(emulator, client, jane):
    post = emulator.add_post("jane", "@acmeair charged twice")
    link = f"https://twitter.com/messages/compose?recipient_id={BRAND_ID}"
    client.create_tweet(
        text="@jane please DM us /AB",
        in_reply_to_tweet_id=post.id,
        direct_message_deep_link=link,
        user_auth=True,
    )
    assert emulator.posts_created()[0].direct_message_deep_link == link
    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(
            text="@jane DM them /AB",
            in_reply_to_tweet_id=post.id,
            user_auth=True,
            direct_message_deep_link="https://twitter.com/messages/compose?recipient_id=999",
        )


def test_text_over_280_characters_is_a_400(emulator, client, jane):
    post = emulator.add_post("jane", "@acmeair hello")
    with pytest.raises(tweepy.BadRequest, match="Your Tweet text is too long"):
        client.create_tweet(text="x" * 281, in_reply_to_tweet_id=post.id, user_auth=True)


@pytest.mark.parametrize(
    ("text", "accepted", "operation"),
    [
        ("漢" * 140, True, "summoned_reply"),  # CJK counts 2: 280
        ("漢" * 141, False, None),  # 282
        ("😀" * 141, False, None),  # emoji count 2
        ("é" * 280, True, "summoned_reply"),  # Latin-1 counts 1
        ("see https://example.com/" + "a" * 280, True, "post_with_url"),  # any URL counts 23
        ("details at acme.com/help", True, "post_with_url"),  # bare domains are linked and billed
        ("v1.2 is out", True, "summoned_reply"),  # not a domain
    ],
)
def test_length_is_twitter_text_weighted_and_links_are_billed(
    emulator, client, jane, text, accepted, operation
):
    post = emulator.add_post("jane", "@acmeair hello")
    if not accepted:
        with pytest.raises(tweepy.BadRequest):
            client.create_tweet(text=text, in_reply_to_tweet_id=post.id, user_auth=True)
        return
    client.create_tweet(text=text, in_reply_to_tweet_id=post.id, user_auth=True)
    assert list(emulator.ledger.units) == [operation]


def test_post_create_carries_24_hour_limit_headers_and_its_429(emulator, client, jane, clock):
    emulator.limiter.daily_limits["create_tweet"] = 2
    first = client.create_tweet(text="one", user_auth=True)
    assert first.headers["x-user-limit-24hour-limit"] == "2"
    assert first.headers["x-user-limit-24hour-remaining"] == "1"
    assert first.headers["x-app-limit-24hour-remaining"] == "1"
    client.create_tweet(text="two", user_auth=True)
    with pytest.raises(tweepy.TooManyRequests) as exc:
        client.create_tweet(text="three", user_auth=True)
    reset = int(exc.value.response.headers["x-user-limit-24hour-reset"])
    assert reset == int(clock.now().timestamp()) + 24 * 3600
    with pytest.raises(XRateLimited) as limited:
        XApi(client=client).reply(emulator.add_post("jane", "@acmeair hi").id, "four")
    assert limited.value.reset_at is not None and int(limited.value.reset_at.timestamp()) == reset


def test_quote_posts_and_likes_are_gone_from_self_serve(emulator, client, jane):
    post = emulator.add_post("jane", "@acmeair best crew ever")
    with pytest.raises(tweepy.Forbidden):
        client.create_tweet(text="Thank you Jane!", quote_tweet_id=post.id, user_auth=True)
    with pytest.raises(tweepy.Forbidden):
        client.like(post.id, user_auth=True)
    assert [v.rule for v in emulator.violations] == ["quote_post", "like"]


def test_unsolicited_dm_to_open_dms_is_delivered_and_recorded(emulator, client, clock):
    open_dms = emulator.add_user("opendms", dms="open")
    response = client.create_direct_message(participant_id=open_dms.id, text="Hi!", user_auth=True)
    assert response.status_code == 201
    assert [v.rule for v in emulator.violations] == ["unsolicited_dm"]


def test_no_dm_until_the_customer_has_dmed_us(emulator, client, jane, clock):
    with pytest.raises(tweepy.Forbidden):
        client.create_direct_message(participant_id=jane.id, text="Hi Jane", user_auth=True)
    assert [v.rule for v in emulator.violations] == ["unsolicited_dm"]
    emulator.add_dm("jane", "acmeair", "Here is my booking ref XK42P")
    clock.advance(1)
    response = client.create_direct_message(participant_id=jane.id, text="Thanks Jane, on it", user_auth=True)
    assert response.status_code == 201 and len(emulator.dms_sent(by="acmeair")) == 1


def test_dm_refused_by_recipient_is_a_403_but_not_our_violation(emulator, client, clock):
    closed = emulator.add_user("closed", dm_refuse=True)
    emulator.add_dm("closed", "acmeair", "hi")
    clock.advance(1)
    with pytest.raises(tweepy.Forbidden) as exc:
        client.create_direct_message(participant_id=closed.id, text="Hello", user_auth=True)
    assert _status(exc) == (403, "You cannot send messages to this user.") and emulator.violations == []


def test_dm_events_list_both_directions_newest_first(emulator, client, jane, clock):
    emulator.add_dm("jane", "acmeair", "first")
    clock.advance(1)
    client.create_direct_message(participant_id=jane.id, text="reply", user_auth=True)
    clock.advance(1)
    body = client.get_direct_message_events(
        dm_event_fields=["sender_id", "created_at", "dm_conversation_id"], user_auth=True
    ).json()
    assert [e["text"] for e in body["data"]] == ["reply", "first"]
    assert body["data"][1]["sender_id"] == jane.id


def test_retweet_once_and_a_second_retweet_is_a_violation(emulator, client, jane):
    post = emulator.add_post("jane", "@acmeair sorted in minutes, thank you!")
    assert client.retweet(post.id, user_auth=True).json() == {"data": {"retweeted": True}}
    client.retweet(post.id, user_auth=True)
    assert emulator.retweets == [(BRAND_ID, post.id)]
    assert [v.rule for v in emulator.violations] == ["duplicate_retweet"]


def test_rate_limit_window_headers_and_429(emulator, brand, x_api, clock):
    emulator.rate_limits["mentions"] = 2
    _, first = x_api.mentions_page(BRAND_ID, max_results=5)
    _, second = x_api.mentions_page(BRAND_ID, max_results=5)
    assert (first.remaining, second.remaining) == (1, 0) and second.exhausted
    with pytest.raises(XRateLimited) as exc:
        x_api.mentions_page(BRAND_ID, max_results=5)
    assert exc.value.reset_at == second.reset_at
    clock.advance(15 * 60)
    assert x_api.mentions_page(BRAND_ID, max_results=5)[1].remaining == 1


def test_credits_exhausted_is_402(emulator, x_api, jane, clock):
    emulator.credits_usd = 0.002
    emulator.add_post("jane", "@acmeair a")
    emulator.add_post("jane", "@acmeair b")
    clock.advance(1)
    x_api.mentions_page(BRAND_ID, max_results=5)  # 2 owned reads = $0.002
    with pytest.raises(XCreditsExhausted) as exc:
        x_api.mentions_page(BRAND_ID, max_results=5)
    assert exc.value.status == 402


def test_owned_reads_billed_once_per_utc_day(emulator, x_api, jane, clock):
    emulator.add_post("jane", "@acmeair a")
    clock.advance(1)
    x_api.mentions_page(BRAND_ID, max_results=5)
    x_api.mentions_page(BRAND_ID, max_results=5)
    assert emulator.ledger.units["owned_read"] == 1
    clock.advance(24 * 3600)
    x_api.mentions_page(BRAND_ID, max_results=5)
    assert emulator.ledger.units["owned_read"] == 2


def test_spend_is_billed_to_the_customer_each_charge_concerns(emulator, client, x_api, jane, clock):
    """Reads, the reply, DMs both ways and the retweet concerning Jane are billed to her; reads of
    someone else's post are not."""
    bob = emulator.add_user("bob")
    complaint = emulator.add_post("jane", "@acmeair my bag is lost")
    emulator.add_post("bob", "@acmeair lovely flight")
    emulator.add_dm("jane", "acmeair", "booking XK42P")
    clock.advance(1)
    x_api.mentions_page(BRAND_ID, max_results=5)
    client.create_tweet(
        text="Sorry Jane, we are on it ^AB", in_reply_to_tweet_id=complaint.id, user_auth=True
    )
    client.create_direct_message(participant_id=jane.id, text="Found it, delivering today", user_auth=True)
    clock.advance(1)
    client.get_direct_message_events(user_auth=True)
    thanks = emulator.add_post("jane", "@acmeair got my bag back, thank you!")
    client.retweet(thanks.id, user_auth=True)
    prices = emulator.ledger.prices
    by_user = emulator.state()["spend_by_user"]
    assert by_user[jane.id] == pytest.approx(
        prices["owned_read"]
        + prices["summoned_reply"]
        + prices["dm_create"]
        + 2 * prices["dm_event_read"]
        + prices["retweet"]
    )
    assert by_user[bob.id] == pytest.approx(prices["owned_read"])
    assert sum(by_user.values()) == pytest.approx(emulator.state()["spend_usd"])


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("server_error", XApiUnavailable),
        ("rate_limit", XRateLimited),
        ("payment_required", XCreditsExhausted),
        ("usage_capped", XUsageCapped),
        ("malformed", MalformedXResponse),
        ("truncated", MalformedXResponse),
    ],
)
def test_injected_faults_surface_as_domain_errors(emulator, x_api, kind, error):
    emulator.inject_fault("mentions", kind, skip=1)
    x_api.mentions_page(BRAND_ID, max_results=5)  # skip=1: the first call is untouched
    with pytest.raises(error):
        x_api.mentions_page(BRAND_ID, max_results=5)
    x_api.mentions_page(BRAND_ID, max_results=5)  # times=1: the fault is spent


def test_usage_capped_is_429_with_rate_limit_headers_and_x_body(emulator, client):
    emulator.inject_fault("mentions", "usage_capped")
    with pytest.raises(tweepy.TooManyRequests) as exc:
        client.get_users_mentions(BRAND_ID, user_auth=True)
    body, headers = exc.value.response.json(), exc.value.response.headers
    assert body["title"] == "UsageCapExceeded" and "status" not in body
    assert {"account_id", "product_name", "period", "scope"} <= body.keys()
    assert int(headers["x-rate-limit-remaining"]) > 0


def test_quote_posts_of_a_post_are_listed_and_billed_as_post_reads(emulator, client, jane, clock):
    ours = emulator.add_post("acmeair", "Winter timetable is live")
    quotes = [emulator.add_post("jane", f"cancelled again {i}", quote_of=ours.id) for i in range(3)]
    emulator.add_post("jane", "unrelated")
    clock.advance(1)
    body = client.get_quote_tweets(ours.id, max_results=10, expansions=["author_id"], user_auth=True).json()
    assert [t["id"] for t in body["data"]] == [q.id for q in reversed(quotes)]
    assert emulator.ledger.units == {"post_read": 3}


def test_timeout_fault_trips_the_client_timeout(emulator, x_api):
    emulator.inject_fault("mentions", "timeout", delay_seconds=PAST_X_TIMEOUT)
    with pytest.raises(XApiUnavailable, match="ReadTimeout"):
        x_api.mentions_page(BRAND_ID, max_results=5)


def test_scenario_file_seeds_users_posts_dms_and_repeats(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("""
start: 2026-11-22T09:00:00Z
users:
  - {username: acmeair, id: "100", access_token: t, access_token_secret: s}
  - {username: jane, followers: 120000, verified: true}
  - {username: bob}
posts:
  - {key: c1, author: jane, text: "@acmeair lost bag", at: 0}
  - {author: bob, reply_to: c1, text: "@acmeair @jane me too {n}", at: 10, repeat: 3, every: 5}
  - {author: bob, retweet_of: c1, at: 40}
  - {author: jane, text: "@acmeair mi maleta", lang: es, at: 50, deleted_at: 70}
dms:
  - {sender: jane, recipient: acmeair, text: "ref XK42P", at: 60}
""")
    emulator, keys = load_scenario(scenario)
    posts = sorted(emulator.world.posts.values(), key=lambda p: int(p.id))
    assert [p.text for p in posts] == [
        "@acmeair lost bag",
        "@acmeair @jane me too 1",
        "@acmeair @jane me too 2",
        "@acmeair @jane me too 3",
        "RT @jane: @acmeair lost bag",
        "@acmeair mi maleta",
    ]
    assert [p.lang for p in posts] == ["en"] * 5 + ["es"]
    assert emulator.app_owner == "acmeair"  # the first user with an access token
    assert all(p.conversation_id == keys["c1"] for p in posts[1:4])
    assert emulator.world.dms[0].text == "ref XK42P"
    seen = lambda: [p.text for p in emulator.world.visible_posts()]  # noqa: E731
    emulator.clock.advance(60)
    assert "@acmeair mi maleta" in seen()
    emulator.clock.advance(10)  # jane deletes it at 70 s
    assert "@acmeair mi maleta" not in seen() and "@acmeair lost bag" in seen()


def test_a_repeated_user_gets_the_repeat_number_in_its_name_too():
    emulator, _ = load_scenario(
        {"users": [{"username": "commuter{n}", "name": "Pat Reyes {n}", "followers": 80, "repeat": 3}]}
    )
    users = sorted(emulator.world.users.values(), key=lambda u: u.username)
    assert [(u.username, u.name, u.followers) for u in users] == [
        ("commuter1", "Pat Reyes 1", 80),
        ("commuter2", "Pat Reyes 2", 80),
        ("commuter3", "Pat Reyes 3", 80),
    ]


def test_scenario_edits_follow_xs_rules():
    from x_emulator.scenario import ScenarioError

    users = [{"username": "acmeair", "access_token": "t"}, {"username": "jane"}, {"username": "bob"}]
    first = {"key": "c1", "author": "jane", "text": "@acmeair lost bag", "at": 0}
    emulator, keys = load_scenario(
        {
            "users": users,
            "posts": [first, {"author": "jane", "edit_of": "c1", "text": "@acmeair lost my bag", "at": 60}],
        }
    )
    emulator.clock.advance(60)
    [latest] = emulator.world.visible_posts()
    assert latest.text == "@acmeair lost my bag" and latest.edit_history == [keys["c1"], latest.id]
    for edit, refusal in (
        ({"author": "bob", "edit_of": "c1", "text": "@acmeair not mine", "at": 60}, "only its author"),
        ({"author": "jane", "edit_of": "c1", "text": "@acmeair too late", "at": 1801}, "no longer be edited"),
    ):
        with pytest.raises(ScenarioError, match=refusal):
            load_scenario({"users": users, "posts": [first, edit]})


def test_scenario_blocks_start_when_the_scenario_says():
    from x_emulator.scenario import ScenarioError

    users = [
        {"username": "acmeair", "access_token": "t"},
        {"username": "hal", "blocks": "acmeair", "blocks_at": 300},
    ]
    emulator, _ = load_scenario({"users": users})
    hal, brand = emulator.world.require_user("hal"), emulator.world.require_user("acmeair")
    assert not emulator.world.blocks(hal, brand)
    emulator.clock.advance(300)
    assert emulator.world.blocks(hal, brand) and not emulator.world.blocks(brand, hal)
    with pytest.raises(ScenarioError, match="hal blocks"):
        load_scenario({"users": [{"username": "hal", "blocks": "nobody"}]})


def test_scenario_with_unknown_keys_is_a_clear_error():
    from x_emulator.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=r"posts\[0\]: unknown keys \['txt'\]"):
        load_scenario({"users": [{"username": "a"}], "posts": [{"author": "a", "txt": "typo"}]})
