/*  =========================================================================
    test_memory - what the runtime keeps per call and per client stays in
    proportion to what is in flight, not to what has gone through it

    The deadline heaps (idmap) of callers and server actors get one entry
    per call; a call answered at once must not leave its entry there for
    its whole timeout. The gateway keeps a record per call and per client
    with calls in flight; a client that goes away in the middle of a call
    must leave nothing behind once the call is answered. The gateway
    case runs a gateway in this process (mcpact_gateway_new) on the
    fixture server, bound at an ipc:// endpoint in a private directory,
    and speaks the protocol with CZMQ sockets. Memory itself (RSS) is
    measured by bench_churn, not here.
    =========================================================================
*/

#include "idmap.h"
#include "runtime_util.h"

#include <czmq.h>

//  --------------------------------------------------------------------------
//  The deadline heap

TEST (deadlines_bounded_by_calls_in_flight)
{
    //  A million calls with a 30 s timeout, each answered at once, at most
    //  eight in flight: the heap holds about the calls in flight, not a
    //  million deadlines that can only be skipped.
    enum { CALLS = 1000000, IN_FLIGHT = 8 };
    idmap_t live;
    idmap_init (&live);
    deadlines_t heap;
    deadlines_init (&heap);
    deadlines_watch (&heap, &live);
    static int value;
    for (uint64_t id = 1; id <= CALLS; id++) {
        CHECK (idmap_put (&live, id, &value) == 0);
        CHECK (deadlines_push (&heap, 30000 + (int64_t) id, id) == 0);
        if (id > IN_FLIGHT)
            idmap_take (&live, id - IN_FLIGHT);
    }
    CHECK_MSG (heap.max <= 64, "%zu slots for %d calls in flight", heap.max, IN_FLIGHT);
    CHECK_MSG (heap.size <= 64, "%zu entries for %d calls in flight", heap.size, IN_FLIGHT);
    //  The calls still in flight are all there, nearest first.
    for (uint64_t id = CALLS - IN_FLIGHT + 1; id <= CALLS; id++) {
        deadline_t *next;
        while ((next = deadlines_peek (&heap)) && !idmap_get (&live, next->id))
            deadlines_pop (&heap);
        CHECK_MSG (next && next->id == id, "call %llu: next is %llu", (unsigned long long) id,
                   next ? (unsigned long long) next->id : 0ULL);
        deadlines_pop (&heap);
    }
    deadlines_free (&heap);
    idmap_free (&live);
}

TEST (deadlines_compaction_keeps_order)
{
    //  Calls that end in a random order among some that wait long: after
    //  the heap has dropped the ended ones many times over, every call
    //  still waiting comes out once, in deadline order.
    enum { CALLS = 200000, KEEP_EVERY = 97 };
    idmap_t live;
    idmap_init (&live);
    deadlines_t heap;
    deadlines_init (&heap);
    deadlines_watch (&heap, &live);
    static int value;
    uint64_t state = 0x2545f4914f6cdd1dULL;
    for (uint64_t id = 1; id <= CALLS; id++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        CHECK (idmap_put (&live, id, &value) == 0);
        CHECK (deadlines_push (&heap, (int64_t) (state % 100000), id) == 0);
        //  Four in flight besides the ones kept waiting
        if (id > 4 && (id - 4) % KEEP_EVERY != 0)
            idmap_take (&live, id - 4);
    }
    size_t waiting = live.size;
    CHECK (waiting == (CALLS - 4) / KEEP_EVERY + 4);
    int64_t last = INT64_MIN;
    size_t seen = 0;
    deadline_t *next;
    while ((next = deadlines_peek (&heap))) {
        CHECK_MSG (next->when >= last, "%lld after %lld", (long long) next->when, (long long) last);
        last = next->when;
        if (idmap_take (&live, next->id))
            seen++;
        deadlines_pop (&heap);
    }
    CHECK_MSG (seen == waiting, "%zu of %zu calls waiting came out", seen, waiting);
    CHECK_MSG (heap.max < CALLS / 8, "%zu slots for %zu calls waiting", heap.max, waiting);
    deadlines_free (&heap);
    idmap_free (&live);
}

//  --------------------------------------------------------------------------
//  The gateway

static char s_dir[64];

static void
s_remove_dir (void)
{
    char command[128];
    snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
    if (system (command) != 0)
        fprintf (stderr, "could not remove %s\n", s_dir);
}

//  The next reply on `sock` as "VERB|ID|STATUS..." (the first three
//  frames), or NULL after 10 s.
static char *
s_reply (zsock_t *sock)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    bool ready = zpoller_wait (poller, 10000) != NULL;
    zpoller_destroy (&poller);
    if (!ready)
        return NULL;
    zmsg_t *msg = zmsg_recv (sock);
    char *verb = zmsg_popstr (msg), *id = zmsg_popstr (msg), *status = zmsg_popstr (msg);
    char *joined = zsys_sprintf ("%s|%s|%s", verb ? verb : "", id ? id : "", status ? status : "");
    free (verb);
    free (id);
    free (status);
    zmsg_destroy (&msg);
    return joined;
}

static zsock_t *
s_client (const char *endpoint, const char *routing_id)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    CHECK (sock);
    zsock_set_linger (sock, 0);
    if (routing_id)
        zsock_set_identity (sock, routing_id);
    CHECK (zsock_connect (sock, "%s", endpoint) == 0);
    return sock;
}

TEST (gateway_forgets_client_gone_mid_call)
{
    //  One call in flight in all, and per client: a record left behind by
    //  a client that went away would refuse every later call as busy.
    char config[512];
    snprintf (config, sizeof config, "{\"mcpServers\": {\"fixture\": {\"command\": \"%s\"}}}",
              RU_FIXTURE);
    mcpact_runtime_t *runtime = mcpact_runtime_new ();
    char *error = NULL;
    mcpact_session_t *session = mcpact_session_load_string (runtime, config, "test", &error);
    CHECK_MSG (session, "%s", error);
    mcpact_gateway_t *gateway =
        mcpact_gateway_new (session, "{\"maxCalls\": 1, \"maxClientCalls\": 1}", &error);
    CHECK_MSG (gateway, "%s", error);
    snprintf (s_dir, sizeof s_dir, "/tmp/mcpact-memory-XXXXXX");
    CHECK (mkdtemp (s_dir) != NULL);
    atexit (s_remove_dir);
    char bind[256], *endpoint = NULL;
    snprintf (bind, sizeof bind, "ipc://%s/gw.sock", s_dir);
    CHECK_MSG (mcpact_gateway_bind (gateway, bind, &endpoint, &error) == 0, "%s", error);

    //  Client A asks for a slow call and goes away before its answer.
    zsock_t *a = s_client (endpoint, "client-a");
    zstr_sendx (a, "HELLO", "h", NULL);
    char *reply = s_reply (a);
    CHECK_MSG (reply && strncmp (reply, "HELLO|h|", 8) == 0, "%s", reply ? reply : "(none)");
    free (reply);
    zstr_sendx (a, "CALL", "a1", "", "sleep", "{\"ms\": 300}", NULL);
    //  A PING after it: once it is answered, the CALL has been taken.
    zstr_sendx (a, "PING", "p", NULL);
    reply = s_reply (a);
    CHECK_MSG (reply && strcmp (reply, "PONG|p|") == 0, "%s", reply ? reply : "(none)");
    free (reply);
    zsock_destroy (&a);

    //  Client B is refused while A's call runs, and served once it has
    //  been answered (to nobody).
    zsock_t *b = s_client (endpoint, NULL);
    char *status = NULL;
    ru_watchdog_arm (30, "the gateway to forget the call of a client that went away");
    for (int attempt = 0; attempt < 1000; attempt++) {
        char id[16];
        snprintf (id, sizeof id, "b%d", attempt);
        zstr_sendx (b, "CALL", id, "", "echo", "{\"message\": \"hi\"}", NULL);
        reply = s_reply (b);
        CHECK_MSG (reply && strncmp (reply, "RESULT|", 7) == 0, "%s", reply ? reply : "(none)");
        free (status);
        status = strdup (strrchr (reply, '|') + 1);
        free (reply);
        if (strcmp (status, "9") != 0) //  MCPACT_ERR_BUSY
            break;
        zclock_sleep (20);
    }
    ru_watchdog_disarm ();
    CHECK_MSG (strcmp (status, "0") == 0, "client B's call ended with status %s", status);
    free (status);
    zsock_destroy (&b);

    //  A again, under the same routing id and request id: a new call.
    a = s_client (endpoint, "client-a");
    zstr_sendx (a, "CALL", "a1", "", "echo", "{\"message\": \"again\"}", NULL);
    reply = s_reply (a);
    CHECK_MSG (reply && strcmp (reply, "RESULT|a1|0") == 0, "%s", reply ? reply : "(none)");
    free (reply);
    zsock_destroy (&a);

    mcpact_gateway_destroy (&gateway);
    mcpact_session_destroy (&session);
    mcpact_runtime_destroy (&runtime);
    free (endpoint);
}
