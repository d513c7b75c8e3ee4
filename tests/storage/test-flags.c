/* test-flags.c - conformance: system flags and keywords (add, remove,
 * replace), keyword limits and syntax (RFC 3501 flag-keyword = atom), and the
 * mailbox's unseen counter.
 */
#include "conformance.h"

#include <stdio.h>
#include <string.h>

CT_SUITE(flags);

static const char msg[] = "Subject: flags\r\n\r\nbody\r\n";

static enum cove_store_err update(uint32_t box, uint32_t uid, enum cove_store_flag_op op,
                                  uint32_t flags, const char *const *kw, size_t kw_count)
{
        struct store_txn *txn = NULL;
        uint64_t modseq = 0;
        enum cove_store_err err;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        err = store_msg_update_flags(txn, box, uid, op, flags, kw, kw_count, &modseq);
        if (err == COVE_STORE_OK)
                ct_assert_ok(store_txn_commit(&txn));
        else
                store_txn_abort(&txn);
        return err;
}

/* Asserts the message's flags, and its keywords as a set. */
static void assert_state(uint32_t box, uint32_t uid, uint32_t flags,
                         const char *const *kw, size_t kw_count)
{
        struct store_txn *txn = NULL;
        const struct cove_store_msg *m = NULL;

        ct_assert_ok(store_txn_begin(ts->store, false, &txn));
        ct_assert_ok(store_msg_get(txn, box, uid, &m));
        cr_assert_eq(m->flags, flags, "flags 0x%x, want 0x%x", m->flags, flags);
        cr_assert_eq(m->keyword_count, kw_count, "%zu keywords, want %zu", m->keyword_count,
                     kw_count);
        for (size_t i = 0; i < kw_count; i++) {
                bool found = false;
                for (size_t j = 0; j < m->keyword_count; j++)
                        found = found || strcmp(m->keywords[j], kw[i]) == 0;
                cr_assert(found, "keyword '%s' missing", kw[i]);
        }
        store_txn_abort(&txn);
}

Test(flags, system_flags_add_remove_replace)
{
        uint32_t user = ct_user_add("flags@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        uint32_t uid = ct_append(box, msg, sizeof(msg) - 1, COVE_FLAG_DRAFT).uid;

        assert_state(box, uid, COVE_FLAG_DRAFT, NULL, 0);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN | COVE_FLAG_FLAGGED,
                            NULL, 0));
        assert_state(box, uid, COVE_FLAG_DRAFT | COVE_FLAG_SEEN | COVE_FLAG_FLAGGED, NULL, 0);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_REMOVE, COVE_FLAG_DRAFT, NULL, 0));
        assert_state(box, uid, COVE_FLAG_SEEN | COVE_FLAG_FLAGGED, NULL, 0);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_REPLACE,
                            COVE_FLAG_ANSWERED | COVE_FLAG_DELETED, NULL, 0));
        assert_state(box, uid, COVE_FLAG_ANSWERED | COVE_FLAG_DELETED, NULL, 0);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_REPLACE, 0, NULL, 0));
        assert_state(box, uid, 0, NULL, 0);

        /* Bits outside COVE_FLAG_ALL are refused or dropped, never stored. */
        enum cove_store_err err = update(box, uid, COVE_STORE_FLAGS_ADD,
                                         COVE_FLAG_SEEN | 0x100u, NULL, 0);
        assert_state(box, uid, err == COVE_STORE_OK ? COVE_FLAG_SEEN : 0, NULL, 0);

        ct_expunge(box, uid);
        ct_assert_code(update(box, uid, COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN, NULL, 0),
                       COVE_STORE_NOTFOUND);
        ct_assert_code(update(box, uid + 100, COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN, NULL, 0),
                       COVE_STORE_NOTFOUND);
}

Test(flags, keywords_add_remove_replace)
{
        uint32_t user = ct_user_add("flags@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        uint32_t uid = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        const char *const ab[] = { "$Forwarded", "Project-X" };
        const char *const c[] = { "$Junk" };
        const char *const abc[] = { "$Forwarded", "Project-X", "$Junk" };
        const char *const dup[] = { "Again", "Again" };

        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_ADD, 0, ab, 2));
        assert_state(box, uid, 0, ab, 2);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN, c, 1));
        assert_state(box, uid, COVE_FLAG_SEEN, abc, 3);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_ADD, 0, c, 1));
        assert_state(box, uid, COVE_FLAG_SEEN, abc, 3);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_REMOVE, 0, ab, 2));
        assert_state(box, uid, COVE_FLAG_SEEN, c, 1);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_REPLACE, COVE_FLAG_FLAGGED, ab, 2));
        assert_state(box, uid, COVE_FLAG_FLAGGED, ab, 2);
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_REPLACE, 0, dup, 2));
        assert_state(box, uid, 0, dup, 1);

        ct_reopen();
        assert_state(box, uid, 0, dup, 1);

        /* Keywords given at append are stored. */
        struct cove_store_part part = { .data = msg, .size = sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1, .flags = COVE_FLAG_SEEN,
                                    .keywords = abc, .keyword_count = 3 };
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;
        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        ct_assert_ok(store_msg_append(txn, box, &app, &saved));
        ct_assert_ok(store_txn_commit(&txn));
        assert_state(box, saved.uid, COVE_FLAG_SEEN, abc, 3);
}

static enum cove_store_err append_with_keywords(uint32_t box, const char *const *kw,
                                                size_t count)
{
        struct cove_store_part part = { .data = msg, .size = sizeof(msg) - 1 };
        struct store_append app = { .parts = &part, .part_count = 1,
                                    .keywords = kw, .keyword_count = count };
        struct cove_store_saved saved;
        struct store_txn *txn = NULL;
        enum cove_store_err err;

        ct_assert_ok(store_txn_begin(ts->store, true, &txn));
        err = store_msg_append(txn, box, &app, &saved);
        if (err == COVE_STORE_OK)
                ct_assert_ok(store_txn_commit(&txn));
        else
                store_txn_abort(&txn);
        return err;
}

Test(flags, keyword_limits)
{
        uint32_t user = ct_user_add("flags@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        uint32_t uid = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        struct pool *pool = pool_create("kw", 4096);
        const char *many[COVE_STORE_MAX_KEYWORDS + 1];

        for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
                many[i] = pool_printf(pool, "kw%zu", i);
        ct_assert_fails(update(box, uid, COVE_STORE_FLAGS_ADD, 0, many,
                               COVE_STORE_MAX_KEYWORDS + 1));
        ct_assert_fails(append_with_keywords(box, many, COVE_STORE_MAX_KEYWORDS + 1));
        assert_state(box, uid, 0, NULL, 0);
        cr_assert_eq(ct_mailbox_get(box).messages, 1u, "refused append stored something");

        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_ADD, 0, many, COVE_STORE_MAX_KEYWORDS));
        assert_state(box, uid, 0, many, COVE_STORE_MAX_KEYWORDS);
        /* Adding one more to a full set must not exceed the limit. */
        enum cove_store_err err = update(box, uid, COVE_STORE_FLAGS_ADD, 0,
                                         &many[COVE_STORE_MAX_KEYWORDS], 1);
        cr_assert_neq(err, COVE_STORE_OK, "a %dth keyword was accepted",
                      COVE_STORE_MAX_KEYWORDS + 1);
        assert_state(box, uid, 0, many, COVE_STORE_MAX_KEYWORDS);

        char longest[COVE_STORE_MAX_KEYWORD + 2];
        memset(longest, 'k', sizeof(longest));
        longest[COVE_STORE_MAX_KEYWORD] = '\0';
        const char *const fits[] = { longest };
        ct_assert_ok(update(box, uid, COVE_STORE_FLAGS_REPLACE, 0, fits, 1));
        longest[COVE_STORE_MAX_KEYWORD] = 'k';
        longest[COVE_STORE_MAX_KEYWORD + 1] = '\0';
        ct_assert_fails(update(box, uid, COVE_STORE_FLAGS_REPLACE, 0, fits, 1));
        pool_destroy(&pool);
}

Test(flags, invalid_keywords_refused)
{
        static const char *const bad[] = {
                "", "two words", "paren(", "paren)", "brace{", "pct%", "star*",
                "quote\"", "back\\slash", "bracket]", "\\Seen", "ctl\x01", "del\x7f",
                "tab\there", "utf8-\xc3\xa9", "nl\n",
        };
        uint32_t user = ct_user_add("flags@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        uint32_t uid = ct_append(box, msg, sizeof(msg) - 1, 0).uid;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *const one[] = { "Good", bad[i] };
                enum cove_store_err err = update(box, uid, COVE_STORE_FLAGS_ADD, 0, one, 2);
                cr_assert_neq(err, COVE_STORE_OK, "keyword #%zu accepted", i);
                err = append_with_keywords(box, one, 2);
                cr_assert_neq(err, COVE_STORE_OK, "append with keyword #%zu accepted", i);
        }
        /* Nothing partial: "Good" was not added alongside the bad ones. */
        assert_state(box, uid, 0, NULL, 0);
        cr_assert_eq(ct_mailbox_get(box).messages, 1u);
}

Test(flags, unseen_counter)
{
        uint32_t user = ct_user_add("flags@example.org");
        uint32_t box = ct_mailbox(user, "INBOX");
        uint32_t u[4];

        u[0] = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        u[1] = ct_append(box, msg, sizeof(msg) - 1, COVE_FLAG_SEEN).uid;
        u[2] = ct_append(box, msg, sizeof(msg) - 1, COVE_FLAG_FLAGGED).uid;
        u[3] = ct_append(box, msg, sizeof(msg) - 1, 0).uid;
        cr_assert_eq(ct_mailbox_get(box).unseen, 3u);

        ct_assert_ok(update(box, u[0], COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN, NULL, 0));
        cr_assert_eq(ct_mailbox_get(box).unseen, 2u);
        ct_assert_ok(update(box, u[0], COVE_STORE_FLAGS_ADD, COVE_FLAG_SEEN, NULL, 0));
        cr_assert_eq(ct_mailbox_get(box).unseen, 2u, "no-op SEEN counted twice");
        ct_assert_ok(update(box, u[1], COVE_STORE_FLAGS_REMOVE, COVE_FLAG_SEEN, NULL, 0));
        cr_assert_eq(ct_mailbox_get(box).unseen, 3u);
        ct_assert_ok(update(box, u[1], COVE_STORE_FLAGS_REPLACE, COVE_FLAG_ANSWERED, NULL, 0));
        cr_assert_eq(ct_mailbox_get(box).unseen, 3u);
        ct_assert_ok(update(box, u[2], COVE_STORE_FLAGS_REPLACE, COVE_FLAG_SEEN, NULL, 0));
        cr_assert_eq(ct_mailbox_get(box).unseen, 2u);

        ct_expunge(box, u[3]);   /* unseen */
        cr_assert_eq(ct_mailbox_get(box).unseen, 1u);
        ct_expunge(box, u[0]);   /* seen */
        struct cove_store_mailbox mb = ct_mailbox_get(box);
        cr_assert_eq(mb.unseen, 1u);
        cr_assert_eq(mb.messages, 2u);
        ct_reopen();
        cr_assert_eq(ct_mailbox_get(box).unseen, 1u);
}
