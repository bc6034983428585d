/*  =========================================================================
    client - a client of `mcpact serve` in C, with CZMQ alone

    The message protocol is docs/protocol.md, "The public protocol": text
    frames, every request VERB ID ARGS... and every reply VERB ID ... with
    the same ID, so many calls can be in flight on one socket.

      mcpact-example-client ENDPOINT [CALLS [SLOW-TOOL SLOW-ARGS [EVENTS CRASH-TOOL]]]

    Says HELLO, lists the tools, makes CALLS calls of echo at once and
    checks each answer; then calls SLOW-TOOL and cancels it; then watches
    EVENTS while CRASH-TOOL makes its server restart. Single-threaded;
    an answer that does not come within 10 s (or the whole run within
    60 s) ends it with a message and status 1.
    =========================================================================
*/

#include <czmq.h>

static int64_t s_deadline; //  the whole run's end, in zclock_mono ms

//  The next message on `sock`, the answer to `what`; exits when it does
//  not come in time (no daemon there, or a key it refuses).
static zmsg_t *
s_recv (zsock_t *sock, const char *what)
{
    int64_t left = s_deadline - zclock_mono ();
    zpoller_t *poller = zpoller_new (sock, NULL);
    bool ready = left > 0 && zpoller_wait (poller, (int) (left < 10000 ? left : 10000)) != NULL;
    zpoller_destroy (&poller);
    if (!ready) {
        fprintf (stderr, "client: no answer to %s in time (is mcpact serve there?)\n", what);
        exit (1);
    }
    return zmsg_recv (sock);
}

//  A socket of `type` connected to `endpoint`. IPv6 on, so that
//  tcp://[::1]:PORT works as well as tcp://127.0.0.1:PORT.
static zsock_t *
s_socket (int type, const char *endpoint)
{
    zsock_t *sock = zsock_new (type);
    zsock_set_ipv6 (sock, 1);
    if (zsock_connect (sock, "%s", endpoint) != 0) {
        fprintf (stderr, "client: cannot connect to %s: %s\n", endpoint, zmq_strerror (errno));
        exit (2);
    }
    return sock;
}

//  Sends VERB ID [ARGS...]; the caller ends the list with NULL.
#define s_send(sock, ...) zstr_sendx ((sock), __VA_ARGS__, NULL)

int
main (int argc, char *argv[])
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s ENDPOINT [CALLS [SLOW-TOOL SLOW-ARGS [EVENTS CRASH-TOOL]]]\n",
                 argv[0]);
        return 2;
    }
    int calls = argc > 2 ? atoi (argv[2]) : 64;
    zsock_t *sock = s_socket (ZMQ_DEALER, argv[1]);
    s_deadline = zclock_mono () + 60000;

    //  HELLO id version -> HELLO id info_json. A client would parse the
    //  JSON; CZMQ has no parser, so this one picks out the protocol and
    //  the agents' names (each {"name": ..., "servers": ...}).
    s_send (sock, "HELLO", "h", "1");
    zmsg_t *reply = s_recv (sock, "HELLO");
    char *verb = reply ? zmsg_popstr (reply) : NULL;
    zstr_free (&verb);
    free (reply ? zmsg_popstr (reply) : NULL); //  the id
    char *info = reply ? zmsg_popstr (reply) : NULL;
    const char *protocol = info ? strstr (info, "\"protocol\":") : NULL;
    printf ("hello protocol %d agents", protocol ? atoi (protocol + 11) : 0);
    for (const char *at = info; at && (at = strstr (at, "\",\"servers\":")); at++) {
        const char *name = at;
        while (name > info && name[-1] != '"')
            name--;
        printf (" '%.*s'", (int) (at - name), name);
    }
    printf ("\n");
    zstr_free (&info);
    zmsg_destroy (&reply);

    //  TOOLS id agent -> TOOLS id tools_json ("" is the default agent)
    s_send (sock, "TOOLS", "t", "");
    reply = s_recv (sock, "TOOLS");
    zframe_t *tools = reply ? zmsg_last (reply) : NULL;
    printf ("tools %zu bytes\n", tools ? zframe_size (tools) : 0);
    zmsg_destroy (&reply);

    //  CALL id agent tool args_json, all at once; RESULT id status payload
    //  come back in any order, matched by id.
    for (int i = 0; i < calls; i++) {
        char id[16], args[64];
        snprintf (id, sizeof id, "%d", i);
        snprintf (args, sizeof args, "{\"message\":\"m%d\"}", i);
        s_send (sock, "CALL", id, "", "echo", args);
    }
    int answered = 0;
    for (int i = 0; i < calls; i++) {
        char *id = NULL, *status = NULL, *payload = NULL;
        reply = s_recv (sock, "CALL");
        verb = zmsg_popstr (reply);
        id = zmsg_popstr (reply);
        status = zmsg_popstr (reply);
        payload = zmsg_popstr (reply);
        //  The answer has the text in it ("m5", or "Echo: m5" from
        //  server-everything's echo).
        char expect[32];
        snprintf (expect, sizeof expect, "m%s\"", id ? id : "?");
        answered +=
            verb && streq (verb, "RESULT") && streq (status, "0") && strstr (payload, expect);
        zstr_free (&verb);
        zstr_free (&id);
        zstr_free (&status);
        zstr_free (&payload);
        zmsg_destroy (&reply);
    }
    printf ("calls %d answered %d\n", calls, answered);

    if (argc > 4) {
        //  CANCEL id: the call's own RESULT says cancelled (status 8).
        s_send (sock, "CALL", "slow", "", argv[3], argv[4]);
        s_send (sock, "PING", "p");
        reply = s_recv (sock, "PING"); //  PONG p: the call has gone on its way
        zmsg_destroy (&reply);
        s_send (sock, "CANCEL", "slow");
        reply = s_recv (sock, "CANCEL");
        verb = reply ? zmsg_popstr (reply) : NULL;
        char *id = reply ? zmsg_popstr (reply) : NULL;
        char *status = reply ? zmsg_popstr (reply) : NULL;
        printf ("cancel %s %s status %s\n", verb ? verb : "-", id ? id : "-",
                status ? status : "-");
        zstr_free (&verb);
        zstr_free (&id);
        zstr_free (&status);
        zmsg_destroy (&reply);
    }

    if (argc > 6) {
        //  Events: SERVER_STATE server state_json, on a SUB socket.
        zsock_t *events = s_socket (ZMQ_SUB, argv[5]);
        zsock_set_subscribe (events, "SERVER_STATE");
        zclock_sleep (300); //  a SUB sees what is published after it joined
        s_send (sock, "CALL", "crash", "", argv[6], "{}");
        while ((reply = s_recv (events, "the crash (events)"))) {
            char *kind = zmsg_popstr (reply), *server = zmsg_popstr (reply);
            char *state = zmsg_popstr (reply);
            bool ready = state && strstr (state, "\"ready\"");
            printf ("event %s %s %s\n", kind ? kind : "-", server ? server : "-",
                    state ? state : "-");
            zstr_free (&kind);
            zstr_free (&server);
            zstr_free (&state);
            zmsg_destroy (&reply);
            if (ready)
                break;
        }
        zsock_destroy (&events);
    }
    zsock_destroy (&sock);
    return answered == calls ? 0 : 1;
}
