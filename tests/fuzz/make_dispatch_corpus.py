#!/usr/bin/env python3
"""Writes tests/fuzz/corpus/fuzz_dispatch/: one seed per endpoint of the
contract (/work/shared/API.md), with a valid body, in fuzz_dispatch.c's
input layout. The ids refer to the data fuzz_dispatch creates at start-up
(users alice 1, bob 2, carol 3 (admin of channel 1), dave 4 (erased);
channels 1 public, 2 alice's private, 3 the dm of alice and bob; messages
1-2 in channel 1, 3 in 2, 4 in 3, 5 by dave, 6 deleted). Run it from
anywhere:
    python3 tests/fuzz/make_dispatch_corpus.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_dispatch")

# Credentials (byte 0, bits 0-2) and content type (bits 3-4).
ALICE, BOB, NONE, LINE, REVOKED, EXPIRED, CAROL = 0, 1, 2, 3, 4, 5, 6
JSON, JSON_UTF8, NO_TYPE, TYPE_LINE = 0, 1, 2, 3
ROUTE_MODE = 0x20
TOO_LARGE = 0xC0

SEEDS = [
    # name, who, method, path, query, body, extra flags
    ("auth_register", NONE, "POST", "/api/auth/register", "",
     '{"username":"dave","password":"dave-password","email":"dave@example.org","display_name":"Dave"}'),
    ("auth_register_taken", NONE, "POST", "/api/auth/register", "",
     '{"username":"ALICE","password":"whatever-pw"}'),
    ("auth_login", NONE, "POST", "/api/auth/login", "",
     '{"username":"alice","password":"alice-password"}'),
    ("auth_login_wrong", NONE, "POST", "/api/auth/login", "",
     '{"username":"bob","password":"not-his-password"}'),
    ("auth_validate", ALICE, "GET", "/api/auth/validate", "", ""),
    ("auth_validate_expired", EXPIRED, "GET", "/api/auth/validate", "", ""),
    ("auth_validate_revoked", REVOKED, "GET", "/api/auth/validate", "", ""),
    ("auth_refresh", NONE, "POST", "/api/auth/refresh", "", '{"refresh_token":"@REFRESH_A@"}'),
    ("auth_logout", ALICE, "POST", "/api/auth/logout", "", '{"refresh_token":"@REFRESH_A@"}'),
    ("auth_ws_ticket", BOB, "POST", "/api/auth/ws-ticket", "", ""),
    ("auth_verify_request", ALICE, "POST", "/api/auth/verify-email/request", "", ""),
    ("auth_verify", NONE, "POST", "/api/auth/verify-email", "", '{"code":"ABCDEFGHJKMN"}'),
    ("users_me", ALICE, "GET", "/api/users/me", "", ""),
    ("users_patch_me", ALICE, "PATCH", "/api/users/me", "",
     '{"display_name":"Al","bio":"line\\nline","avatar_url":"https://example.org/a.png",'
     '"status_text":"here","email":"al@example.org"}'),
    ("users_password", ALICE, "PUT", "/api/users/me/password", "",
     '{"old_password":"alice-password","new_password":"new-password-1"}'),
    ("users_delete_me", BOB, "DELETE", "/api/users/me", "", '{"password":"bob-password"}'),
    ("users_get", BOB, "GET", "/api/users/1", "", ""),
    ("users_search", BOB, "GET", "/api/users", "q=a&limit=5", ""),
    ("channels_list", BOB, "GET", "/api/channels", "", ""),
    ("channels_create", ALICE, "POST", "/api/channels", "",
     '{"name":"random","kind":"private","topic":"t","members":[2,3]}'),
    ("channels_dm", BOB, "POST", "/api/channels/dm", "", '{"user_ids":[1,3]}'),
    ("channels_get", ALICE, "GET", "/api/channels/1", "", ""),
    ("channels_get_private", BOB, "GET", "/api/channels/2", "", ""),
    ("channels_patch", ALICE, "PATCH", "/api/channels/1", "", '{"name":"general-2","topic":"new"}'),
    ("channels_delete", ALICE, "DELETE", "/api/channels/2", "", ""),
    ("channels_join", BOB, "POST", "/api/channels/1/join", "", ""),
    ("channels_members", BOB, "GET", "/api/channels/1/members", "", ""),
    ("channels_member_add", ALICE, "POST", "/api/channels/1/members", "", '{"user_id":3,"role":"admin"}'),
    ("channels_member_remove", ALICE, "DELETE", "/api/channels/1/members/2", "", ""),
    ("channels_read", BOB, "POST", "/api/channels/1/read", "", '{"message_id":2}'),
    ("channels_typing", BOB, "POST", "/api/channels/3/typing", "", ""),
    ("messages_history", BOB, "GET", "/api/messages/history", "channel=1&limit=50", ""),
    ("messages_history_before", ALICE, "GET", "/api/messages/history", "channel=1&before=2&limit=1", ""),
    ("messages_history_after", ALICE, "GET", "/api/messages/history", "channel=1&after=1", ""),
    ("messages_search", ALICE, "GET", "/api/messages/search", "q=hello+private&channel=1&limit=10", ""),
    ("messages_post", ALICE, "POST", "/api/messages", "",
     '{"channel_id":1,"content":"hi @bob \\u00e9","client_msg_id":"c-2","reply_to":1}'),
    ("messages_post_repeat", BOB, "POST", "/api/messages", "",
     '{"channel_id":1,"content":"hi alice","client_msg_id":"c-1"}'),
    ("messages_get", BOB, "GET", "/api/messages/4", "", ""),
    ("messages_patch", ALICE, "PATCH", "/api/messages/1", "", '{"content":"edited"}'),
    ("messages_delete", ALICE, "DELETE", "/api/messages/2", "", ""),
    ("messages_react", ALICE, "PUT", "/api/messages/1/reactions/%F0%9F%91%8D", "", ""),
    ("messages_unreact", BOB, "DELETE", "/api/messages/1/reactions/%F0%9F%91%8D", "", ""),
    ("channels_admin_remove", CAROL, "DELETE", "/api/channels/1/members/2", "", ""),
    ("channels_admin_remove_owner", CAROL, "DELETE", "/api/channels/1/members/1", "", ""),
    ("channels_admin_patch", CAROL, "PATCH", "/api/channels/1", "", '{"topic":"by an admin"}'),
    ("channels_admin_role", CAROL, "POST", "/api/channels/1/members", "", '{"user_id":2,"role":"owner"}'),
    ("messages_admin_delete", CAROL, "DELETE", "/api/messages/5", "", ""),
    ("messages_get_erased_author", BOB, "GET", "/api/messages/5", "", ""),
    ("messages_get_deleted", BOB, "GET", "/api/messages/6", "", ""),
    ("presence_list", BOB, "GET", "/api/presence", "channel=1", ""),
    ("presence_join", BOB, "POST", "/api/presence/join", "", '{"channel_id":1}'),
    ("presence_leave", ALICE, "POST", "/api/presence/leave", "", '{"channel_id":1}'),
    ("presence_heartbeat", ALICE, "POST", "/api/presence/heartbeat", "", '{"status":"dnd"}'),
    ("notifications_list", BOB, "GET", "/api/notifications", "unread=1&limit=10", ""),
    ("notifications_read_ids", BOB, "POST", "/api/notifications/read", "", '{"ids":[1,2]}'),
    ("notifications_read_all", BOB, "POST", "/api/notifications/read", "", '{"all":true}'),
    ("events_since", BOB, "GET", "/api/events", "since=0", ""),
    ("events_timeout", ALICE, "GET", "/api/events", "since=3&timeout=0", ""),
    ("health", NONE, "GET", "/api/health", "", ""),
    ("head_channels", ALICE, "HEAD", "/api/channels", "", ""),
    ("method_not_allowed", ALICE, "OPTIONS", "/api/channels/1", "", ""),
    ("no_such_path", ALICE, "GET", "/api/channels/1/../2", "", ""),
]


def seed(who, method, path, query, body, flags=0, b1=0, auth_line="", ctype_line=""):
    b0 = (who | flags) ^ 0x30
    head = bytes([b0, b1 ^ 0x30])
    text = "\n".join([method, path, query, auth_line, ctype_line]) + "\n" + body
    return head + text.encode()


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {}
    for name, who, method, path, query, body in SEEDS:
        files[name] = seed(who, method, path, query, body)
    # Credentials as a raw header line, a wrong content type, a body over
    # the limit, and route mode (route 0 of every table, params from the path).
    files["auth_line"] = seed(LINE, "GET", "/api/auth/validate", "", "", auth_line="Bearer @TOKEN_B@")
    files["auth_line_erased"] = seed(LINE, "GET", "/api/users/me", "", "", auth_line="Bearer @TOKEN_D@")
    files["auth_line_lowercase"] = seed(LINE, "GET", "/api/channels/3", "", "", auth_line="bearer  @TOKEN_C@")
    files["content_type_line"] = seed(ALICE | (TYPE_LINE << 3), "POST", "/api/messages", "",
                                      '{"channel_id":1,"content":"x"}', ctype_line="text/plain")
    files["content_type_utf8"] = seed(ALICE | (JSON_UTF8 << 3), "POST", "/api/presence/join", "",
                                      '{"channel_id":1}')
    files["too_large"] = seed(ALICE, "POST", "/api/messages", "", "{}", flags=TOO_LARGE)
    files["route_mode"] = seed(ALICE, "", "1/%F0%9F%91%8D", "", "", flags=ROUTE_MODE, b1=7)
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(files)} seeds in {OUT}")


if __name__ == "__main__":
    main()
