/* conformance.h - shared fixture and assertions of the storage conformance
 * suite. Every case runs against the engine named by $COVE_TEST_ENGINE,
 * through the facade (store.h) only, on a fresh store in its own temp dir.
 * Helpers here assert (Criterion); never call them in a forked child.
 */
#ifndef COVE_CONFORMANCE_H
#define COVE_CONFORMANCE_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <sys/types.h>

#include "pool.h"
#include "store.h"
#include "test-store.h"

/* The current test's store (set by ct_setup, freed by ct_teardown). */
extern struct test_store *ts;

void ct_setup(void);
void ct_teardown(void);

/* The timeout only guards against hangs; it asserts nothing about speed. */
#define CT_SUITE(name) \
        TestSuite(name, .init = ct_setup, .fini = ct_teardown, .timeout = 240)

#define ct_assert_code(expr, code) \
        do { \
                enum cove_store_err ct_err_ = (expr); \
                cr_assert_eq(ct_err_, (code), "%s: got '%s', want '%s' (%s)", #expr, \
                             cove_store_strerror(ct_err_), cove_store_strerror(code), \
                             ts->store != NULL ? store_last_error(ts->store) : "closed"); \
        } while (0)
#define ct_assert_ok(expr) ct_assert_code((expr), COVE_STORE_OK)
#define ct_assert_fails(expr) \
        do { \
                enum cove_store_err ct_err_ = (expr); \
                cr_assert_neq(ct_err_, COVE_STORE_OK, "%s succeeded; it must fail", #expr); \
        } while (0)

/* Closes and reopens the store handle. */
void ct_reopen(void);

/* Creates a user (with the default mailboxes) and returns its id. */
uint32_t ct_user_add(const char *name);
/* The id of an existing mailbox; fails the test when missing. */
uint32_t ct_mailbox(uint32_t user_id, const char *name);
/* Creates a mailbox and returns its id. */
uint32_t ct_mailbox_add(uint32_t user_id, const char *name);
/* Copies of the current records. */
struct cove_store_mailbox ct_mailbox_get(uint32_t mailbox_id);
struct cove_store_user ct_user_get(uint32_t user_id);

/* Appends data with flags in its own txn; returns what was saved. */
struct cove_store_saved ct_append(uint32_t mailbox_id, const void *data, size_t len,
                                  uint32_t flags);
/* Expunges one message in its own txn. */
void ct_expunge(uint32_t mailbox_id, uint32_t uid);
/* Asserts the message reads back as exactly data/len. */
void ct_assert_body(uint32_t mailbox_id, uint32_t uid, const void *data, size_t len);
/* Counts the messages of a mailbox by iterating them; also asserts the UIDs
   ascend strictly and stay below uidnext. */
uint32_t ct_count_messages(uint32_t mailbox_id);
/* Forks a child that opens its own store handle, takes user_id's maildrop
   lock and holds it until killed (or until this process exits). Fails the
   test if the child cannot take the lock. */
pid_t ct_spawn_lock_holder(uint32_t user_id);
/* SIGKILLs and reaps a child. */
void ct_kill(pid_t pid);
/* Size of the generated test message for a seed (test_msg_make), so a
   message can be checked from its own Subject line. */
size_t ct_gen_size(uint32_t seed);
/* Appends the generated message for seed; returns its UID. */
uint32_t ct_append_generated(uint32_t mailbox_id, uint32_t seed);
/* Asserts the message is exactly the generated message its Subject names;
   returns that seed. */
uint32_t ct_assert_generated(uint32_t mailbox_id, uint32_t uid);
/* Store-wide statistics. */
struct cove_store_stats ct_stats(void);

#endif
