/*  =========================================================================
    stdio - the stdio transport: a child process speaking MCP on its pipes

    Launches the configured command in its own process group, with an
    environment made of a small allow-list of ours plus the user's `env`,
    and frames newline-delimited JSON-RPC on its stdin/stdout. stderr goes
    to a bounded ring (the tail is shown in the server's status) and to the
    debug log. Closing follows the MCP specification's order, applied to
    the whole process group, so that what a launcher (`sh -c`, `npx`,
    `uv run`) started goes too: close stdin, wait for the server; SIGTERM
    to the group, wait; SIGKILL to the group. It ends only once nothing of
    the group is left (or a bounded wait after SIGKILL has passed). If the
    host dies without closing (SIGKILL, a crash), the server gets SIGTERM
    from the kernel (the parent-death signal, see spawner.c). The child is
    started by the spawn helper (spawner.h), or directly by this thread.

    Threading: used by one server actor thread, which opens the transport
    (on restarts too) and stops it before the thread ends; that matters
    when the child was started directly, since Linux sends the
    parent-death signal when the thread that started the child exits, not
    the process. Signals: that thread blocks SIGPIPE
    (see actor.c), so a write to a dead child fails with EPIPE instead of
    killing the host; the child gets a clean signal mask.
    =========================================================================
*/

#include "transport.h"

#include "idmap.h"
#include "jsonrpc.h"
#include "jsonscan.h"
#include "linebuf.h"
#include "log.h"
#include "spawner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STDERR_RING_SIZE 4096
//  The close sequence's waits (ms): after closing stdin, after SIGTERM,
//  and after SIGKILL (for the group's last members to be gone).
#define CLOSE_WAIT_MS 1000
#define TERM_WAIT_MS 1000
#define KILL_WAIT_MS 1000
//  How often the close sequence looks again while it waits.
#define CLOSE_POLL_US 5000
//  A server that closed its stdin but whose process has not ended after
//  this long is given up (it can take no more requests); a process on its
//  way out ends within it, and its exit status is the better reason.
#define STDIN_CLOSED_GRACE_MS 100

static const char *s_env_allowed[] = { "HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", NULL };

typedef struct {
    char *name;                  //  server name, for logs
    spawner_proc_t proc;         //  the child, and who reaps it
    pid_t pid;                   //  child process (and group) id; 0 once reaped
    pid_t pgid;                  //  its process group; kept after reaping, for the rest
    int status;                  //  exit status once reaped
    int in;                      //  child's stdin (ours to write), -1 once closed
    int out;                     //  child's stdout, -1 once closed
    int err;                     //  child's stderr, -1 once closed
    int pidfd;                   //  readable once the child has exited, or -1
    char *outbuf;                //  bytes to be written to stdin
    size_t outstart;             //  the first of them not written yet
    size_t outsize;              //  the end of them
    int64_t taken_ms;            //  when the server last took bytes, or they began to wait
    size_t outmax;               //  bytes allocated
    linebuf_t lines;             //  stdout framing
    linebuf_t errlines;          //  stderr framing, for the log
    char ring[STDERR_RING_SIZE]; //  last stderr bytes
    size_t ring_head;            //  next write position in ring
    size_t ring_total;           //  stderr bytes seen in all
    char *error;                 //  why the transport died
    lane_t *lane;                //  stdin and stdout are lent to it, or NULL
    int64_t stdin_closed_ms;     //  when a write found stdin closed (EPIPE), or 0
} s_stdio_t;

static void
s_set_error (s_stdio_t *self, const char *format, ...)
{
    if (self->error)
        return;
    char text[512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    self->error = strdup (text);
}

//  The child's environment: the allow-list from ours, then the user's.
static char **
s_environment (const mcpact_server_config_t *config)
{
    size_t max = 8 + config->env_count;
    char **env = (char **) calloc (max, sizeof (char *));
    if (!env)
        return NULL;
    size_t count = 0;
    for (const char **name = s_env_allowed; *name; name++) {
        bool overridden = false;
        for (size_t i = 0; i < config->env_count; i++)
            if (strcmp (config->env[i].name, *name) == 0)
                overridden = true;
        const char *value = getenv (*name);
        if (value && !overridden && asprintf (&env[count], "%s=%s", *name, value) > 0)
            count++;
    }
    for (size_t i = 0; i < config->env_count; i++)
        if (asprintf (&env[count], "%s=%s", config->env[i].name, config->env[i].value) > 0)
            count++;
    return env;
}

static void
s_free_strings (char **strings)
{
    if (strings)
        for (char **p = strings; *p; p++)
            free (*p);
    free (strings);
}

static linebuf_dropped_fn s_dropped;

static void *
s_open (const mcpact_server_config_t *config, char **error)
{
    *error = NULL;
    if (config->cwd) {
        struct stat st;
        if (stat (config->cwd, &st) != 0 || !S_ISDIR (st.st_mode)) {
            if (asprintf (error, "working directory %s: %s", config->cwd,
                          errno ? strerror (errno) : "not a directory") < 0)
                *error = NULL;
            return NULL;
        }
    }
    s_stdio_t *self = (s_stdio_t *) calloc (1, sizeof (s_stdio_t));
    if (!self)
        return NULL;
    self->name = strdup (config->name);
    self->in = self->out = self->err = self->pidfd = -1;
    linebuf_init (&self->lines, TRANSPORT_MAX_MESSAGE);
    self->lines.on_dropped = s_dropped;
    linebuf_init (&self->errlines, 4096);

    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
    char **argv = (char **) calloc (config->args_count + 2, sizeof (char *));
    char **envp = s_environment (config);
    int rc = -1;

    if (!argv || !envp || pipe2 (in, O_CLOEXEC) || pipe2 (out, O_CLOEXEC) ||
        pipe2 (err, O_CLOEXEC)) {
        if (asprintf (error, "cannot make pipes: %s", strerror (errno)) < 0)
            *error = NULL;
        goto done;
    }
    argv[0] = config->command;
    for (size_t i = 0; i < config->args_count; i++)
        argv[i + 1] = config->args[i];

    spawner_child_t child = { .command = config->command,
                              .argv = argv,
                              .envp = envp,
                              .cwd = config->cwd,
                              .in = in[0],
                              .out = out[1],
                              .err = err[1] };
    if (spawner_spawn (&child, &self->proc, error) != 0)
        goto done;
    pid_t pid = self->proc.pid;
    self->pid = self->pgid = pid;
    self->in = in[1], in[1] = -1;
    self->out = out[0], out[0] = -1;
    self->err = err[0], err[0] = -1;
    fcntl (self->in, F_SETFL, O_NONBLOCK);
    fcntl (self->out, F_SETFL, O_NONBLOCK);
    fcntl (self->err, F_SETFL, O_NONBLOCK);
    //  The end of stdout says the server is gone only if nothing else
    //  holds it: a helper the server started (a browser, a language
    //  server, `sleep &` in a launcher script) keeps it open. The pidfd
    //  says when the server itself exits (Linux 5.3; without it, stdout's
    //  end is all there is). It works on a child of the spawn helper too,
    //  which keeps it unreaped, so the pid cannot be reused meanwhile.
    self->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
    log_debug ("server %s: started %s as pid %d%s", config->name, config->command, (int) self->pid,
               self->proc.helper >= 0 ? " by the spawn helper" : "");
    rc = 0;

done:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close (in[i]);
        if (out[i] >= 0)
            close (out[i]);
        if (err[i] >= 0)
            close (err[i]);
    }
    free (argv);
    s_free_strings (envp);
    if (rc) {
        void *state = self;
        transport_stdio.stop (&state);
        return NULL;
    }
    return self;
}

//  Bytes waiting to be written: outbuf[outstart .. outsize).
static size_t
s_waiting (s_stdio_t *self)
{
    return self->outsize - self->outstart;
}

static int
s_flush (s_stdio_t *self)
{
    while (self->outstart < self->outsize) {
        ssize_t rc = write (self->in, self->outbuf + self->outstart, s_waiting (self));
        if (rc > 0) {
            self->outstart += (size_t) rc;
            self->taken_ms = clock_ms ();
        } else if (rc < 0 && errno == EINTR)
            continue;
        else if (rc < 0 && errno == EAGAIN)
            break;
        else if (rc < 0 && errno == EPIPE) {
            //  The child is gone or closed its stdin: what it exited with
            //  (seen when its stdout closes) is the better reason, if it
            //  ends soon (s_handle).
            close (self->in);
            self->in = -1;
            self->outstart = self->outsize = 0;
            self->stdin_closed_ms = clock_ms ();
            return 0;
        } else {
            s_set_error (self, "writing to the server's stdin: %s", strerror (errno));
            return -1;
        }
    }
    if (self->outstart == self->outsize) {
        self->outstart = self->outsize = 0;
        //  Don't keep a large buffer after one burst.
        if (self->outmax > 1024 * 1024) {
            free (self->outbuf);
            self->outbuf = NULL;
            self->outmax = 0;
        }
    }
    return 0;
}

//  Queues bytes for stdin, `newline` after them. 0, or -1.
static int
s_queue (s_stdio_t *self, const char *msg, size_t size, bool newline)
{
    if (self->in < 0 || self->error)
        return -1;
    size_t need = size + (newline ? 1 : 0);
    if (self->outstart == self->outsize)
        self->taken_ms = clock_ms (); //  waiting from now
    if (self->outsize + need > self->outmax && self->outstart) {
        //  Move what waits to the front before growing: each byte is
        //  moved at most once per send, not once per partial write.
        memmove (self->outbuf, self->outbuf + self->outstart, s_waiting (self));
        self->outsize -= self->outstart;
        self->outstart = 0;
    }
    if (self->outsize + need > self->outmax) {
        size_t max = self->outmax ? self->outmax : 4096;
        while (max < self->outsize + need)
            max *= 2;
        char *grown = (char *) realloc (self->outbuf, max);
        if (!grown)
            return -1;
        self->outbuf = grown;
        self->outmax = max;
    }
    memcpy (self->outbuf + self->outsize, msg, size);
    if (newline)
        self->outbuf[self->outsize + size] = '\n';
    self->outsize += need;
    //  Written at the next poll_items: the actor batches what is ready
    //  before it polls again, so most sends join one write.
    return 0;
}

static int
s_send (void *state, const char *msg, size_t size)
{
    return s_queue ((s_stdio_t *) state, msg, size, true);
}

static int
s_lend (void *state, lane_t *lane, uint64_t next_id, int call_ms)
{
    s_stdio_t *self = (s_stdio_t *) state;
    if (s_waiting (self) && self->in >= 0 && !self->lane)
        s_flush (self); //  what the actor queued this round (an answer to the server)
    if (self->lane || s_waiting (self) || self->in < 0 || self->out < 0 || self->error)
        return -1;
    self->lane = lane;
    lane_lend (lane, self->in, self->out, &self->lines, next_id, call_ms);
    return 0;
}

static void
s_take_back (void *state, lane_t *lane)
{
    s_stdio_t *self = (s_stdio_t *) state;
    self->lane = NULL;
    if (lane->written < lane->request.size && s_queue (self, lane->request.data + lane->written,
                                                       lane->request.size - lane->written, false))
        s_set_error (self, "out of memory queueing a request");
    lane->written = lane->request.size = 0;
}

static size_t
s_queued (void *state, int64_t *stalled_ms)
{
    s_stdio_t *self = (s_stdio_t *) state;
    size_t waiting = s_waiting (self);
    if (stalled_ms)
        *stalled_ms = waiting ? clock_ms () - self->taken_ms : 0;
    return waiting;
}

static int
s_poll_items (void *state, zmq_pollitem_t *items, int max)
{
    s_stdio_t *self = (s_stdio_t *) state;
    int count = 0;
    //  Flush what the actor queued since the last poll.
    if (s_waiting (self) && self->in >= 0 && !self->lane)
        s_flush (self);
    if (self->out >= 0 && !self->lane && count < max)
        items[count++] = (zmq_pollitem_t){ NULL, self->out, ZMQ_POLLIN, 0 };
    if (self->err >= 0 && count < max)
        items[count++] = (zmq_pollitem_t){ NULL, self->err, ZMQ_POLLIN, 0 };
    if (s_waiting (self) && self->in >= 0 && !self->lane && count < max)
        items[count++] = (zmq_pollitem_t){ NULL, self->in, ZMQ_POLLOUT, 0 };
    if (self->pidfd >= 0 && count < max)
        items[count++] = (zmq_pollitem_t){ NULL, self->pidfd, ZMQ_POLLIN, 0 };
    return count;
}

static int
s_timeout (void *state)
{
    s_stdio_t *self = (s_stdio_t *) state;
    if (!self->stdin_closed_ms)
        return -1;
    int64_t left = self->stdin_closed_ms + STDIN_CLOSED_GRACE_MS - clock_ms ();
    return left > 0 ? (int) left : 0;
}

typedef struct {
    s_stdio_t *self;
    transport_msg_fn *on_msg;
    void *owner;
} s_deliver_t;

static void
s_deliver (void *arg, const char *line, size_t size)
{
    s_deliver_t *deliver = (s_deliver_t *) arg;
    deliver->on_msg (deliver->owner, line, size);
}

//  A message over the size limit was dropped: the call it answered ends
//  with an error saying so, instead of waiting out its timeout.
static void
s_dropped (void *arg, const char *head, size_t head_size, const char *tail, size_t tail_size,
           size_t size)
{
    s_deliver_t *deliver = (s_deliver_t *) arg;
    char reason[160];
    snprintf (reason, sizeof reason,
              "the server's answer (%zu bytes) is larger than the limit of %d bytes; it was "
              "dropped",
              size, TRANSPORT_MAX_MESSAGE);
    char *answer = jsonrpc_answer_from_edges (head, head_size, tail, tail_size, reason);
    if (answer)
        deliver->on_msg (deliver->owner, answer, strlen (answer));
    free (answer);
}

static void
s_log_stderr (void *arg, const char *line, size_t size)
{
    s_stdio_t *self = (s_stdio_t *) arg;
    log_debug ("server %s: stderr: %.*s", self->name, (int) size, line);
}

static void
s_read_stderr (s_stdio_t *self)
{
    while (true) {
        size_t room;
        char *space = linebuf_space (&self->errlines, &room);
        ssize_t rc = space ? read (self->err, space, room) : -1;
        if (rc > 0) {
            for (ssize_t i = 0; i < rc; i++) {
                self->ring[self->ring_head] = space[i];
                self->ring_head = (self->ring_head + 1) % STDERR_RING_SIZE;
            }
            self->ring_total += (size_t) rc;
            linebuf_commit (&self->errlines, (size_t) rc, s_log_stderr, self);
        } else if (rc < 0 && errno == EINTR)
            continue;
        else {
            if (rc == 0 || errno != EAGAIN) {
                close (self->err);
                self->err = -1;
            }
            return;
        }
    }
}

//  Reaps the child if it has exited; returns true if it has.
static bool
s_reap (s_stdio_t *self)
{
    if (self->pid <= 0)
        return true;
    int status = 0;
    int rc = spawner_reap (&self->proc, self->pidfd, &status);
    if (rc != 0) {
        //  -1: reaped by someone else (a host that ignores SIGCHLD), or
        //  its helper died: gone all the same, its status lost.
        self->status = rc > 0 ? status : 0;
        self->pid = 0;
        return true;
    }
    return false;
}

static void
s_describe_exit (s_stdio_t *self)
{
    if (WIFEXITED (self->status))
        s_set_error (self, "the server process exited with status %d", WEXITSTATUS (self->status));
    else if (WIFSIGNALED (self->status))
        s_set_error (self, "the server process was killed by signal %d (%s)",
                     WTERMSIG (self->status), strsignal (WTERMSIG (self->status)));
    else
        s_set_error (self, "the server process stopped");
}

//  Reads what the server wrote to stdout, `rounds` reads at most, and
//  hands on each message. Returns 0, 1 at the end of stdout, or -1.
static int
s_read_stdout (s_stdio_t *self, s_deliver_t *deliver, int rounds)
{
    for (int round = 0; round < rounds; round++) {
        //  Straight into the line buffer: messages are handed on from
        //  where they land.
        size_t room;
        char *space = linebuf_space (&self->lines, &room);
        if (!space) {
            s_set_error (self, "out of memory reading the server's output");
            return -1;
        }
        ssize_t rc = read (self->out, space, room);
        if (rc > 0) {
            size_t dropped = self->lines.dropped;
            linebuf_commit (&self->lines, (size_t) rc, s_deliver, deliver);
            if (self->lines.dropped != dropped)
                log_error ("server %s: dropped a message larger than %d bytes", self->name,
                           TRANSPORT_MAX_MESSAGE);
        } else if (rc < 0 && errno == EINTR)
            continue;
        else if (rc < 0 && errno == EAGAIN)
            return 0;
        else
            return 1;
    }
    return 0;
}

//  The server is gone (its stdout ended, or it exited): its last words,
//  then why it stopped.
static int
s_gone (s_stdio_t *self)
{
    if (self->err >= 0)
        s_read_stderr (self);
    for (int tries = 0; tries < 100 && !s_reap (self); tries++)
        usleep (1000);
    if (self->pid == 0)
        s_describe_exit (self);
    else
        s_set_error (self, "the server closed its stdout");
    return -1;
}

static int
s_handle (void *state, zmq_pollitem_t *items, int count, transport_msg_fn *on_msg, void *owner)
{
    s_stdio_t *self = (s_stdio_t *) state;
    s_deliver_t deliver = { self, on_msg, owner };
    bool exited = false;
    for (int i = 0; i < count; i++) {
        if (!items[i].revents)
            continue;
        if (items[i].fd == self->err)
            s_read_stderr (self);
        else if (items[i].fd == self->pidfd)
            exited = true;
        else if (items[i].fd == self->in && s_waiting (self))
            if (s_flush (self))
                return -1;
    }
    if (exited && self->lane)
        return 1; //  its stdout is read by the lane: the pidfd stays readable
    if (exited) {
        //  What it wrote before it went still counts: all of it, but not
        //  beyond what is there now (a helper may hold stdout open).
        int rc = self->out >= 0 ? s_read_stdout (self, &deliver, 4096) : 1;
        if (rc < 0)
            return -1;
        close (self->pidfd);
        self->pidfd = -1;
        return s_gone (self);
    }
    if (self->stdin_closed_ms && clock_ms () - self->stdin_closed_ms >= STDIN_CLOSED_GRACE_MS &&
        !self->lane) {
        s_set_error (self, "the server closed its stdin and can take no more requests");
        return -1;
    }
    for (int i = 0; i < count; i++) {
        if (!items[i].revents || items[i].fd != self->out)
            continue;
        //  Bounded so a chatty server can't starve the actor's other work.
        int rc = s_read_stdout (self, &deliver, 16);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            close (self->out);
            self->out = -1;
            return s_gone (self);
        }
    }
    return self->error ? -1 : 0;
}

static const char *
s_error (void *state)
{
    return ((s_stdio_t *) state)->error;
}

//  The last bytes of stderr, oldest first, as text that JSON can carry
//  (the ring may have cut a character, the server may write anything).
static char *
s_stderr_tail (s_stdio_t *self)
{
    size_t size = self->ring_total < STDERR_RING_SIZE ? self->ring_total : STDERR_RING_SIZE;
    char *bytes = (char *) malloc (size + 1);
    if (!bytes)
        return NULL;
    size_t start = (self->ring_head + STDERR_RING_SIZE - size) % STDERR_RING_SIZE;
    for (size_t i = 0; i < size; i++)
        bytes[i] = self->ring[(start + i) % STDERR_RING_SIZE];
    char *tail = jsonscan_text (bytes, size);
    free (bytes);
    return tail;
}

static void
s_describe (void *state, json_t *status)
{
    s_stdio_t *self = (s_stdio_t *) state;
    if (self->pid > 0)
        json_object_set_new (status, "pid", json_integer (self->pid));
    char *tail = s_stderr_tail (self);
    if (tail && *tail)
        json_object_set_new (status, "stderr", json_string (tail));
    free (tail);
}

//  Reaps the server (through whoever started it), and what of its
//  process group is our child: members we adopted if the host is a
//  subreaper.
static void
s_reap_group (s_stdio_t *self)
{
    s_reap (self);
    int status;
    pid_t rc;
    while ((rc = waitpid (-self->pgid, &status, WNOHANG)) > 0 || (rc < 0 && errno == EINTR))
        if (rc == self->pid) { //  ours, and it exited just now
            self->status = status;
            self->pid = 0;
        }
}

//  Whether /proc shows a process of group `pgid` that is not a zombie.
//  Where /proc cannot be read, the kill (-pgid, 0) before has the say.
static bool
s_group_has_live_member (pid_t pgid)
{
    DIR *proc = opendir ("/proc");
    if (!proc)
        return true;
    bool live = false;
    struct dirent *entry;
    while (!live && (entry = readdir (proc))) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
            continue;
        char path[64], stat[256];
        snprintf (path, sizeof path, "/proc/%.20s/stat", entry->d_name);
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t size = read (fd, stat, sizeof stat - 1);
        close (fd);
        if (size <= 0)
            continue;
        stat[size] = 0;
        //  "pid (comm) state ppid pgrp ...", where comm may hold ')' too
        char *comm_end = strrchr (stat, ')');
        char state;
        int ppid, pgrp;
        if (comm_end && sscanf (comm_end + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
            pgrp == pgid && state != 'Z' && state != 'X')
            live = true;
    }
    closedir (proc);
    return live;
}

//  True once nothing of the server's process group is alive. The server
//  counts until we reap it (a zombie, ours or the spawn helper's, which
//  keeps it until we ask, keeps the group id ours). After that kill
//  (-pgid, 0) finds any member, zombies too: a member whose parent
//  (often init, which may reap late) has not reaped it yet is dead all
//  the same, so then /proc has the last word.
static bool
s_group_gone (s_stdio_t *self)
{
    s_reap_group (self);
    if (self->pid > 0)
        return false;
    if (kill (-self->pgid, 0) != 0 && errno == ESRCH)
        return true;
    return !s_group_has_live_member (self->pgid);
}

//  Waits at most `ms` for the server to exit (or, with `group`, for all of
//  its process group to be gone). Returns whether it did.
static bool
s_wait_gone (s_stdio_t *self, int ms, bool group)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    int64_t until = (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000 + ms;
    while (true) {
        if (group ? s_group_gone (self) : (s_reap_group (self), self->pid == 0))
            return true;
        clock_gettime (CLOCK_MONOTONIC, &now);
        if ((int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000 >= until)
            return false;
        usleep (CLOSE_POLL_US);
    }
}

//  Signals the whole group; SIGCONT too, since a stopped process acts on
//  SIGTERM only once it runs again.
static void
s_signal_group (s_stdio_t *self, int signal)
{
    kill (-self->pgid, signal);
    if (signal == SIGTERM)
        kill (-self->pgid, SIGCONT);
}

//  The close sequence. The group id stays reserved while any member lives
//  (or our unreaped child), so signalling -pgid after the server itself
//  is gone reaches only what it left behind. Also run after the server
//  died on its own, before a restart or giving up: its leftovers go too.
static void
s_close_group (s_stdio_t *self)
{
    bool exited = s_wait_gone (self, CLOSE_WAIT_MS, false);
    if (s_group_gone (self))
        return;
    if (exited)
        log_debug ("server %s: exited; SIGTERM to what is left of its process group", self->name);
    else
        log_debug ("server %s: no exit after stdin closed; SIGTERM", self->name);
    s_signal_group (self, SIGTERM);
    if (s_wait_gone (self, TERM_WAIT_MS, true))
        return;
    log_warn ("server %s: %s after SIGTERM; SIGKILL", self->name,
              self->pid > 0 ? "no exit" : "its process group is still there");
    s_signal_group (self, SIGKILL);
    if (!s_wait_gone (self, KILL_WAIT_MS, true))
        log_error ("server %s: process group %d is still there %d ms after SIGKILL", self->name,
                   (int) self->pgid, KILL_WAIT_MS);
}

static void
s_stop (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_stdio_t *self = (s_stdio_t *) *state_p;
    if (self->in >= 0) {
        if (s_waiting (self))
            s_flush (self);
        close (self->in);
        self->in = -1;
    }
    if (self->pgid > 0)
        s_close_group (self);
    if (self->out >= 0)
        close (self->out);
    if (self->err >= 0)
        close (self->err);
    if (self->pidfd >= 0)
        close (self->pidfd);
    linebuf_free (&self->lines);
    linebuf_free (&self->errlines);
    free (self->outbuf);
    free (self->error);
    free (self->name);
    free (self);
    *state_p = NULL;
}

const transport_ops_t transport_stdio = {
    .name = "stdio",
    .open = s_open,
    .send = s_send,
    .poll_items = s_poll_items,
    .timeout = s_timeout,
    .handle = s_handle,
    .queued = s_queued,
    .error = s_error,
    .describe = s_describe,
    .lend = s_lend,
    .take_back = s_take_back,
    .stop = s_stop,
};
