/*  =========================================================================
    test_chaos - many calls while servers are killed at random

    Four fixture servers; host threads call them the two ways a host can
    (the blocking call and the asynchronous caller, several calls in
    flight, some cancelled), while another thread kills a random server's
    process every few hundred milliseconds. What must hold: every call
    comes back, within its timeout (plus a margin for a loaded machine);
    each answer is the answer to that call; calls made = results + errors,
    so nothing is lost; and once the killing stops, every server serves
    again. Leaks are ASan's to find (scripts/test --asan).

    MCPACT_CHAOS_SECONDS sets how long it runs (default 8); the figures
    are printed at the end.
    =========================================================================
*/

#include "runtime_util.h"

#include <pthread.h>
#include <stdatomic.h>

#define SERVERS 4
#define BLOCKING_THREADS 2
#define CALLER_THREADS 2
#define IN_FLIGHT 8
#define CALL_TIMEOUT_MS 2000
//  A call may come back this much after its timeout on a loaded machine
#define MARGIN_MS 3000

typedef struct {
    mcpact_agent_t *agent;
    atomic_bool stop;      //  the threads end their loops
    atomic_long made;      //  calls started
    atomic_long ok;        //  answered, with their own answer
    atomic_long errors;    //  ended with an error (server died, timeout, ...)
    atomic_long cancelled; //  of those, cancelled by us
    atomic_long late;      //  came back later than timeout + margin
    atomic_long wrong;     //  an answer that was not the call's own
    atomic_long kills;     //  server processes killed
    atomic_long lost;      //  calls that never came back
} chaos_t;

static unsigned
s_random (unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

//  Checks one result of a call whose message was `message`.
static void
s_take (chaos_t *chaos, mcpact_result_t *result, const char *message, int64_t elapsed_ms)
{
    if (elapsed_ms > CALL_TIMEOUT_MS + MARGIN_MS)
        atomic_fetch_add (&chaos->late, 1);
    if (mcpact_result_status (result) == MCPACT_OK) {
        const char *text = mcpact_result_text (result);
        char expected[128];
        snprintf (expected, sizeof expected, "\"text\":\"%s\"", message);
        if (!text || !strstr (text, expected))
            atomic_fetch_add (&chaos->wrong, 1);
        atomic_fetch_add (&chaos->ok, 1);
    } else {
        if (mcpact_result_status (result) == MCPACT_ERR_CANCELLED)
            atomic_fetch_add (&chaos->cancelled, 1);
        atomic_fetch_add (&chaos->errors, 1);
    }
}

//  One host thread calling and waiting, call after call.
static void *
s_blocking (void *arg)
{
    chaos_t *chaos = (chaos_t *) arg;
    unsigned seed = (unsigned) (uintptr_t) pthread_self ();
    for (long n = 0; !atomic_load (&chaos->stop); n++) {
        char tool[32], args[160], message[96];
        snprintf (message, sizeof message, "b%lx-%ld", (unsigned long) pthread_self (), n);
        unsigned server = s_random (&seed) % SERVERS;
        //  Mostly echo; now and then a call that takes a while, so that
        //  kills find calls in flight.
        if (s_random (&seed) % 4 == 0) {
            unsigned ms = 50 + s_random (&seed) % 300;
            snprintf (tool, sizeof tool, "s%u_sleep", server);
            snprintf (args, sizeof args, "{\"ms\":%u}", ms);
            snprintf (message, sizeof message, "slept %u", ms);
        } else {
            snprintf (tool, sizeof tool, "s%u_echo", server);
            snprintf (args, sizeof args, "{\"message\":\"%s\"}", message);
        }
        atomic_fetch_add (&chaos->made, 1);
        int64_t start = ru_now_ms ();
        mcpact_result_t *result = mcpact_agent_call (chaos->agent, tool, args, CALL_TIMEOUT_MS);
        if (!result) {
            atomic_fetch_add (&chaos->lost, 1);
            continue;
        }
        s_take (chaos, result, message, ru_now_ms () - start);
        mcpact_result_destroy (&result);
    }
    return NULL;
}

typedef struct {
    int64_t id;       //  caller's id, 0 = free
    int64_t start_ms; //  when it was sent
    char message[96]; //  what the answer must say
} s_pending_t;

//  One host thread with an asynchronous caller, IN_FLIGHT calls at once.
static void *
s_async (void *arg)
{
    chaos_t *chaos = (chaos_t *) arg;
    unsigned seed = (unsigned) (uintptr_t) pthread_self () ^ 0x5a5a;
    mcpact_caller_t *caller = mcpact_caller_new (chaos->agent);
    s_pending_t pending[IN_FLIGHT] = { { 0 } };
    long n = 0;
    size_t open = 0;
    while (!atomic_load (&chaos->stop) || open > 0) {
        for (size_t i = 0; i < IN_FLIGHT && !atomic_load (&chaos->stop); i++) {
            if (pending[i].id)
                continue;
            char tool[32], args[160];
            unsigned server = s_random (&seed) % SERVERS;
            snprintf (pending[i].message, sizeof pending[i].message, "a%lx-%ld",
                      (unsigned long) pthread_self (), n++);
            snprintf (tool, sizeof tool, "s%u_echo", server);
            snprintf (args, sizeof args, "{\"message\":\"%s\"}", pending[i].message);
            atomic_fetch_add (&chaos->made, 1);
            pending[i].start_ms = ru_now_ms ();
            pending[i].id = mcpact_caller_send (caller, tool, args, CALL_TIMEOUT_MS);
            if (pending[i].id <= 0) {
                //  Not sent: its result (with the reason) comes anyway.
                pending[i].id = 0;
                atomic_fetch_sub (&chaos->made, 1);
                continue;
            }
            open++;
            //  Now and then, change our mind
            if (s_random (&seed) % 16 == 0)
                mcpact_caller_cancel (caller, pending[i].id);
        }
        mcpact_result_t *result = mcpact_caller_next (caller, 20);
        for (; result; result = mcpact_caller_next (caller, 0)) {
            int64_t id = mcpact_result_id (result);
            size_t i = 0;
            while (i < IN_FLIGHT && pending[i].id != id)
                i++;
            if (i == IN_FLIGHT) {
                //  The result of a call that was never sent
                mcpact_result_destroy (&result);
                continue;
            }
            s_take (chaos, result, pending[i].message, ru_now_ms () - pending[i].start_ms);
            pending[i].id = 0;
            open--;
            mcpact_result_destroy (&result);
        }
        //  A call that outlives its timeout and margin by far is lost.
        for (size_t i = 0; i < IN_FLIGHT; i++)
            if (pending[i].id &&
                ru_now_ms () - pending[i].start_ms > CALL_TIMEOUT_MS + 10 * MARGIN_MS) {
                atomic_fetch_add (&chaos->lost, 1);
                pending[i].id = 0;
                open--;
            }
    }
    mcpact_caller_destroy (&caller);
    return NULL;
}

//  The process ids of the servers, from their status (0 if down).
static void
s_pids (mcpact_agent_t *agent, long *pids)
{
    json_t *status = ru_json_take (mcpact_agent_status (agent));
    for (int i = 0; i < SERVERS; i++) {
        char name[8];
        snprintf (name, sizeof name, "s%d", i);
        pids[i] = (long) json_integer_value (json_object_get (ru_named (status, name), "pid"));
    }
    json_decref (status);
}

TEST (servers_killed_under_load)
{
    const char *seconds_text = getenv ("MCPACT_CHAOS_SECONDS");
    int seconds = seconds_text ? atoi (seconds_text) : 8;
    if (seconds <= 0)
        seconds = 8;
    mcpact_runtime_t *runtime;
    mcpact_session_t *session = ru_session_new (&runtime);
    for (int i = 0; i < SERVERS; i++) {
        char name[8], prefix[8];
        snprintf (name, sizeof name, "s%d", i);
        snprintf (prefix, sizeof prefix, "s%d_", i);
        mcpact_server_config_t *config = ru_fixture (name, "--prefix", prefix, NULL);
        CHECK (mcpact_session_add_server (session, &config) == 0);
    }
    static chaos_t chaos;
    chaos.agent = mcpact_agent_new (session, NULL);
    json_t *report = ru_json_take (mcpact_agent_start (chaos.agent));
    for (int i = 0; i < SERVERS; i++) {
        char name[8];
        snprintf (name, sizeof name, "s%d", i);
        CHECK_STR (ru_state (report, name), "ready");
    }
    json_decref (report);

    pthread_t threads[BLOCKING_THREADS + CALLER_THREADS];
    for (int i = 0; i < BLOCKING_THREADS + CALLER_THREADS; i++)
        CHECK (pthread_create (&threads[i], NULL, i < BLOCKING_THREADS ? s_blocking : s_async,
                               &chaos) == 0);
    //  Kill a random server's process every 100 to 400 ms
    unsigned seed = (unsigned) getpid ();
    int64_t end = ru_now_ms () + seconds * 1000;
    while (ru_now_ms () < end) {
        ru_sleep_ms (100 + (int) (s_random (&seed) % 300));
        long pids[SERVERS];
        s_pids (chaos.agent, pids);
        long pid = pids[s_random (&seed) % SERVERS];
        if (pid > 0 && kill ((pid_t) pid, SIGKILL) == 0)
            atomic_fetch_add (&chaos.kills, 1);
    }
    atomic_store (&chaos.stop, true);
    ru_watchdog_arm (120, "the host threads' last calls");
    for (int i = 0; i < BLOCKING_THREADS + CALLER_THREADS; i++)
        pthread_join (threads[i], NULL);
    ru_watchdog_disarm ();

    long made = atomic_load (&chaos.made), ok = atomic_load (&chaos.ok);
    long errors = atomic_load (&chaos.errors), lost = atomic_load (&chaos.lost);
    printf ("chaos: %d s, %ld calls, %ld kills, %ld results, %ld errors (%ld cancelled), "
            "%ld lost, %ld late, %ld wrong\n",
            seconds, made, atomic_load (&chaos.kills), ok, errors, atomic_load (&chaos.cancelled),
            lost, atomic_load (&chaos.late), atomic_load (&chaos.wrong));
    CHECK (atomic_load (&chaos.kills) >= seconds);
    CHECK (made > 0 && ok > 0);
    CHECK_MSG (made == ok + errors + lost && lost == 0, "made %ld, results %ld, errors %ld", made,
               ok, errors);
    CHECK (atomic_load (&chaos.late) == 0);
    CHECK (atomic_load (&chaos.wrong) == 0);

    //  Every server serves again
    ru_watchdog_arm (120, "the servers after the kills");
    for (int i = 0; i < SERVERS; i++) {
        char tool[32];
        snprintf (tool, sizeof tool, "s%d_echo", i);
        mcpact_result_t *result = NULL;
        while (true) {
            result = mcpact_agent_call (chaos.agent, tool, "{\"message\":\"back\"}", 5000);
            if (mcpact_result_status (result) == MCPACT_OK)
                break;
            mcpact_result_destroy (&result);
            ru_sleep_ms (100);
        }
        CHECK_CONTAINS (mcpact_result_text (result), "back");
        mcpact_result_destroy (&result);
    }
    ru_watchdog_disarm ();
    ru_teardown (&chaos.agent, &session, &runtime);
}
