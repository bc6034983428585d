/*  =========================================================================
    functions - runs the host's C function tools on worker threads (see .h)
    =========================================================================
*/

#include "functions.h"

#include "idmap.h"
#include "jsonscan.h"
#include "log.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>

typedef struct {
    mcpact_function_fn *fn; //  the host's callback
    void *arg;              //  its argument
} s_function_t;

//  A job is handed to a worker and back by pointer: only one thread holds
//  it at a time.
typedef struct {
    uint64_t id;                    //  job id (deadline heap, running map)
    zmq_msg_t caller;               //  caller's routing id
    uint64_t call_id;               //  caller's id for the call
    s_function_t function;          //  what to run
    mcpact_tools_changed_fn *event; //  or: a host event callback to run
    void *event_arg;                //  its argument
    char *args;                     //  argument text (the event's JSON for events)
    char *output;                   //  result or error text from the function
    int rc;                         //  0 or -1 from the function
    int timeout_ms;                 //  as asked
    bool abandoned;                 //  answered already (timed out)
} s_job_t;

typedef struct {
    char *endpoint;
    int workers;
} s_args_t;

typedef struct {
    zsock_t *pipe;         //  to the runtime
    zsock_t *router;       //  callers
    zhashx_t *functions;   //  key -> s_function_t
    actor_t **workers;     //  worker threads
    int worker_count;      //  how many
    bool *busy;            //  per worker
    zlistx_t *queue;       //  jobs waiting for a worker
    zlistx_t *events;      //  host event callbacks waiting, in order
    bool event_running;    //  one of them is running
    idmap_t jobs;          //  job id -> s_job_t, waiting or running
    deadlines_t deadlines; //  job deadlines
    uint64_t next_job;     //  job ids
    bool terminated;       //  leave the loop
} self_t;

static void
s_worker (zsock_t *pipe, void *arg)
{
    actor_ready (pipe);
    while (true) {
        char *verb = NULL;
        void *pointer = NULL;
        if (zsock_recv (pipe, "sp", &verb, &pointer) != 0)
            break;
        bool term = strcmp (verb, "$TERM") == 0;
        free (verb);
        if (term)
            break;
        s_job_t *job = (s_job_t *) pointer;
        actor_handoff_acquire (job);
        job->output = NULL;
        if (job->event)
            job->event (job->args, job->event_arg);
        else
            job->rc = job->function.fn (job->args, &job->output, job->function.arg);
        actor_send_ptr (pipe, "DONE", job);
    }
}

static void
s_job_free (s_job_t *job)
{
    zmq_msg_close (&job->caller);
    free (job->args);
    free (job->output);
    free (job);
}

//  The function's answer as a CallToolResult.
static void
s_answer (self_t *self, s_job_t *job)
{
    const char *text = job->output ? job->output : (job->rc == 0 ? "" : "the function tool failed");
    jsonbuf_t buf = { 0 };
    jsonbuf_append_str (&buf, "{\"content\":[{\"type\":\"text\",\"text\":");
    jsonbuf_append_quoted (&buf, text);
    jsonbuf_append_str (&buf, job->rc == 0 ? "}]}" : "}],\"isError\":true}");
    wire_send_result (zsock_resolve (self->router), &job->caller, job->call_id,
                      job->rc == 0 ? MCPACT_OK : MCPACT_ERR_TOOL, buf.data, buf.size);
    jsonbuf_free (&buf);
}

static void
s_dispatch (self_t *self)
{
    //  Host event callbacks run one at a time, in the order they came: a
    //  server's "starting" is seen before its "ready".
    for (int i = 0; i < self->worker_count && !self->event_running && zlistx_size (self->events);
         i++) {
        if (self->busy[i])
            continue;
        s_job_t *job = (s_job_t *) zlistx_first (self->events);
        zlistx_delete (self->events, zlistx_cursor (self->events));
        self->busy[i] = true;
        self->event_running = true;
        actor_send_ptr (actor_sock (self->workers[i]), "JOB", job);
    }
    for (int i = 0; i < self->worker_count && zlistx_size (self->queue); i++) {
        if (self->busy[i])
            continue;
        s_job_t *job = NULL;
        while (zlistx_size (self->queue) && !job) {
            job = (s_job_t *) zlistx_first (self->queue);
            zlistx_delete (self->queue, zlistx_cursor (self->queue));
            if (job->abandoned) {
                idmap_take (&self->jobs, job->id);
                s_job_free (job);
                job = NULL;
            }
        }
        if (!job)
            return;
        self->busy[i] = true;
        actor_send_ptr (actor_sock (self->workers[i]), "JOB", job);
    }
}

static void
s_handle_call (self_t *self, wire_msg_t *msg)
{
    //  [caller] CALL call_id key args timeout_ms
    uint64_t call_id = (uint64_t) wire_int (msg, 2, 0);
    char *key = wire_strdup (msg, 3);
    s_function_t *function = key ? (s_function_t *) zhashx_lookup (self->functions, key) : NULL;
    free (key);
    void *router = zsock_resolve (self->router);
    if (!function) {
        wire_send_error (router, &msg->parts[0], call_id, MCPACT_ERR_UNKNOWN_TOOL,
                         "no such function tool");
        return;
    }
    const char *args = wire_data (msg, 4);
    size_t args_size = wire_size (msg, 4);
    if (args_size == 0)
        args = "{}", args_size = 2;
    const char *problem = jsonscan_args_problem (args, args + args_size);
    if (problem) {
        char message[128];
        snprintf (message, sizeof message, "the arguments %s", problem);
        wire_send_error (router, &msg->parts[0], call_id, MCPACT_ERR_ARGS, message);
        return;
    }
    s_job_t *job = (s_job_t *) calloc (1, sizeof (s_job_t));
    job->id = ++self->next_job;
    zmq_msg_init (&job->caller);
    zmq_msg_copy (&job->caller, &msg->parts[0]);
    job->call_id = call_id;
    job->function = *function;
    job->args = strndup (args, args_size);
    job->timeout_ms = (int) wire_int (msg, 5, 0);
    if (job->timeout_ms <= 0)
        job->timeout_ms = FUNCTIONS_DEFAULT_TIMEOUT_MS;
    idmap_put (&self->jobs, job->id, job);
    deadlines_push (&self->deadlines, clock_ms () + job->timeout_ms, job->id);
    zlistx_add_end (self->queue, job);
    s_dispatch (self);
}

//  A host event callback to run (from the registry): queued like a call,
//  with no answer and no deadline.
static void
s_handle_event (self_t *self, wire_msg_t *msg)
{
    //  [registry] EVENT fn arg json
    if (wire_size (msg, 2) != sizeof (void *) || wire_size (msg, 3) != sizeof (void *))
        return;
    s_job_t *job = (s_job_t *) calloc (1, sizeof (s_job_t));
    job->id = ++self->next_job;
    zmq_msg_init (&job->caller);
    void *fn;
    memcpy (&fn, wire_data (msg, 2), sizeof fn);
    memcpy (&job->event, &fn, sizeof fn);
    memcpy (&job->event_arg, wire_data (msg, 3), sizeof job->event_arg);
    job->args = wire_strdup (msg, 4);
    idmap_put (&self->jobs, job->id, job);
    zlistx_add_end (self->events, job);
    s_dispatch (self);
}

static void
s_handle_router (self_t *self)
{
    void *router = zsock_resolve (self->router);
    for (int batch = 0; batch < 256; batch++) {
        wire_msg_t msg;
        if (wire_recv (&msg, router, ZMQ_DONTWAIT) < 0)
            return;
        if (wire_is (&msg, 1, "CALL"))
            s_handle_call (self, &msg);
        else if (wire_is (&msg, 1, "EVENT"))
            s_handle_event (self, &msg);
        else if (wire_is (&msg, 1, "STATUS")) {
            char status[128];
            snprintf (status, sizeof status, "{\"name\":\"functions\",\"functions\":%zu}",
                      zhashx_size (self->functions));
            wire_send_result (router, &msg.parts[0], (uint64_t) wire_int (&msg, 2, 0), 0, status,
                              strlen (status));
        }
        //  CANCEL: a running C function cannot be stopped; the caller has
        //  its answer already and the result will be dropped.
        wire_close (&msg);
    }
}

static void
s_handle_worker (self_t *self, int index)
{
    char *verb = NULL;
    void *pointer = NULL;
    if (zsock_recv (actor_sock (self->workers[index]), "sp", &verb, &pointer) != 0)
        return;
    free (verb);
    self->busy[index] = false;
    s_job_t *job = (s_job_t *) pointer;
    actor_handoff_acquire (job);
    idmap_take (&self->jobs, job->id);
    if (job->event)
        self->event_running = false;
    if (!job->abandoned && !job->event)
        s_answer (self, job);
    s_job_free (job);
    s_dispatch (self);
}

static void
s_handle_pipe (self_t *self)
{
    char *verb = NULL, *key = NULL;
    void *fn = NULL, *arg = NULL;
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg) {
        self->terminated = true;
        return;
    }
    verb = zmsg_popstr (msg);
    if (verb && strcmp (verb, "ADD") == 0) {
        key = zmsg_popstr (msg);
        zframe_t *frame = zmsg_pop (msg);
        if (frame && zframe_size (frame) == sizeof (void *))
            memcpy (&fn, zframe_data (frame), sizeof fn);
        zframe_destroy (&frame);
        frame = zmsg_pop (msg);
        if (frame && zframe_size (frame) == sizeof (void *))
            memcpy (&arg, zframe_data (frame), sizeof arg);
        zframe_destroy (&frame);
        s_function_t *function = (s_function_t *) calloc (1, sizeof (s_function_t));
        //  Function pointers travel as raw bytes of the same process.
        memcpy (&function->fn, &fn, sizeof fn);
        function->arg = arg;
        zhashx_update (self->functions, key, function);
        zstr_send (self->pipe, "OK");
    } else if (verb && strcmp (verb, "REMOVE") == 0) {
        key = zmsg_popstr (msg);
        if (key)
            zhashx_delete (self->functions, key);
        zstr_send (self->pipe, "OK");
    } else
        self->terminated = true;
    free (verb);
    free (key);
    zmsg_destroy (&msg);
}

static void
s_handle_timers (self_t *self)
{
    int64_t now = clock_ms ();
    deadline_t *next;
    while ((next = deadlines_peek (&self->deadlines)) && next->when <= now) {
        s_job_t *job = (s_job_t *) idmap_get (&self->jobs, next->id);
        deadlines_pop (&self->deadlines);
        if (!job || job->abandoned)
            continue;
        job->abandoned = true;
        wire_send_error (zsock_resolve (self->router), &job->caller, job->call_id,
                         MCPACT_ERR_TIMEOUT, "the function tool did not finish in time");
    }
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = (s_args_t *) arg;
    self_t self = { 0 };
    self.pipe = pipe;
    self.functions = zhashx_new ();
    zhashx_set_destructor (self.functions, (zhashx_destructor_fn *) zstr_free);
    self.queue = zlistx_new ();
    self.events = zlistx_new ();
    idmap_init (&self.jobs);
    deadlines_init (&self.deadlines);
    deadlines_watch (&self.deadlines, &self.jobs);
    self.worker_count = args->workers;
    self.workers = (actor_t **) calloc ((size_t) self.worker_count, sizeof (actor_t *));
    self.busy = (bool *) calloc ((size_t) self.worker_count, sizeof (bool));
    self.router = zsock_new (ZMQ_ROUTER);
    bool ok = self.router && zsock_bind (self.router, "%s", args->endpoint) == 0;
    if (ok) {
        zsock_set_sndhwm (self.router, 0);
        zsock_set_rcvhwm (self.router, 0);
    }
    for (int i = 0; ok && i < self.worker_count; i++) {
        self.workers[i] = actor_new (s_worker, NULL);
        ok = self.workers[i] && actor_wait (self.workers[i], NULL) == 0;
    }
    if (!ok)
        actor_fail (pipe, "cannot start the function-tool workers");
    else
        actor_ready (pipe);

    zmq_pollitem_t *items =
        (zmq_pollitem_t *) calloc ((size_t) self.worker_count + 2, sizeof (zmq_pollitem_t));
    while (ok && !self.terminated) {
        items[0] = (zmq_pollitem_t){ zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 };
        items[1] = (zmq_pollitem_t){ zsock_resolve (self.router), 0, ZMQ_POLLIN, 0 };
        for (int i = 0; i < self.worker_count; i++)
            items[i + 2] =
                (zmq_pollitem_t){ zsock_resolve (actor_sock (self.workers[i])), 0, ZMQ_POLLIN, 0 };
        deadline_t *next = deadlines_peek (&self.deadlines);
        long timeout = next ? (long) (next->when - clock_ms ()) : -1;
        if (next && timeout < 0)
            timeout = 0;
        if (zmq_poll (items, self.worker_count + 2, timeout) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            s_handle_pipe (&self);
        if (items[1].revents & ZMQ_POLLIN)
            s_handle_router (&self);
        for (int i = 0; i < self.worker_count; i++)
            if (items[i + 2].revents & ZMQ_POLLIN)
                s_handle_worker (&self, i);
        s_handle_timers (&self);
    }
    free (items);
    //  Workers finish the function they run, then stop.
    for (int i = 0; i < self.worker_count; i++)
        actor_term (self.workers[i]);
    for (int i = 0; i < self.worker_count; i++) {
        if (self.workers[i] && self.busy[i]) {
            char *verb = NULL;
            void *pointer = NULL;
            if (zsock_recv (actor_sock (self.workers[i]), "sp", &verb, &pointer) == 0) {
                s_job_t *job = (s_job_t *) pointer;
                actor_handoff_acquire (job);
                idmap_take (&self.jobs, job->id);
                s_job_free (job);
            }
            free (verb);
        }
        actor_destroy (&self.workers[i]);
    }
    for (s_job_t *job = (s_job_t *) zlistx_first (self.queue); job;
         job = (s_job_t *) zlistx_next (self.queue)) {
        idmap_take (&self.jobs, job->id);
        s_job_free (job);
    }
    for (s_job_t *job = (s_job_t *) zlistx_first (self.events); job;
         job = (s_job_t *) zlistx_next (self.events)) {
        idmap_take (&self.jobs, job->id);
        s_job_free (job);
    }
    zlistx_destroy (&self.queue);
    zlistx_destroy (&self.events);
    idmap_free (&self.jobs);
    deadlines_free (&self.deadlines);
    zhashx_destroy (&self.functions);
    zsock_destroy (&self.router);
    free (self.workers);
    free (self.busy);
    free (args->endpoint);
    free (args);
}

actor_t *
functions_actor_new (const char *endpoint, int workers)
{
    s_args_t *args = (s_args_t *) calloc (1, sizeof (s_args_t));
    args->endpoint = strdup (endpoint);
    args->workers = workers > 0 ? workers : 4;
    actor_t *actor = actor_new (s_actor, args);
    if (!actor) {
        free (args->endpoint);
        free (args);
    }
    return actor;
}
