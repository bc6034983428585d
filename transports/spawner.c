/*  =========================================================================
    spawner - starts and reaps the stdio servers' processes

    The spawn helpers (one per CPU) are forked from a thread of their own
    (the parent-death signal follows the thread that forked, so a host
    thread that ends must not take the helpers with it), which then only
    waits for them to die or to be stopped, and reaps them. Forked from a
    multithreaded host, a helper uses async-signal-safe calls only (no
    allocation, no stdio, no locks): it keeps its control socket as fd 3
    and /dev/null as 0 to 2, closes everything else, resets signals, and
    dies with the host (SIGKILL on the forking thread's death, and EOF on
    its socket). Actors take the helpers in turn.

    Protocol, one SOCK_SEQPACKET datagram per request, answered on a pipe
    passed with it (so that any number of threads can ask at once on the
    one socket, each reading its own answer):
      SPAWN header strings [reply in out err]  ->  answer {pid | stage, errno}
      REAP  header         [reply]             ->  answer {waitpid's rc, status, errno}
    The helper does not reap a child until asked: the zombie keeps the pid
    and the process group id reserved, so that the actor's pidfd and its
    signals to the group never reach a reused pid, and the actor gets the
    exit status for its diagnostics.

    Threading: see spawner.h. The helpers' table is written only by
    spawner_start and spawner_stop, while no actor runs (the first
    runtime's start, the last one's end); actors read it, and the dead
    flags are atomic.
    =========================================================================
*/

#include "spawner.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

//  What the server gets when the thread (or helper) that started it dies
//  without closing it. SIGTERM rather than SIGKILL: a launcher that passes
//  it on to the server it runs (uv run does) then ends that server too,
//  where SIGKILL would leave it behind; and what SIGTERM does not end
//  still reads EOF on its stdin, whose only write end died with the host.
#define PARENT_DEATH_SIGNAL SIGTERM

//  Helpers by default (one per CPU up to this), and at most
//  (MCPACT_SPAWN_HELPER=N asks for N).
#define DEFAULT_HELPERS 4
#define MAX_HELPERS 8
//  Largest request the helper takes: command, arguments, environment,
//  cwd and PATH. A larger one is spawned directly.
#define MAX_REQUEST (60 * 1024)
//  Arguments plus environment strings at most, likewise.
#define MAX_STRINGS 4096

enum { OP_SPAWN = 1, OP_REAP = 2 };

//  A request's fixed part; its strings follow: command, argv, envp, then
//  cwd and PATH if their flags say so.
typedef struct {
    uint32_t op;    //  OP_SPAWN or OP_REAP
    int32_t pid;    //  REAP: whom
    uint32_t argc;  //  SPAWN: arguments
    uint32_t envc;  //  SPAWN: environment strings
    uint32_t flags; //  SPAWN: F_CWD, F_PATH, F_HERE
} s_request_t;

#define F_CWD 1
#define F_PATH 2
#define F_HERE 4

//  Where a start failed.
enum { STAGE_NONE = 0, STAGE_FORK, STAGE_CHDIR, STAGE_EXEC };

//  The helper's answer; also what s_vfork reports.
typedef struct {
    int32_t pid;    //  SPAWN: the child, or -1; REAP: waitpid's return
    int32_t stage;  //  SPAWN: where it failed
    int32_t error;  //  errno
    int32_t status; //  REAP: the exit status
} s_answer_t;

//  --------------------------------------------------------------------------
//  Starting a child: the same code in the host (direct) and in the helper

//  What the child needs between vfork and exec, all made beforehand: the
//  child borrows our memory and our stack until it execs.
typedef struct {
    const spawner_child_t *child;
    int report;   //  write end of the CLOEXEC pipe for failures
    pid_t parent; //  our pid, to tell that we died before prctl
    bool helper;  //  we are the helper: no handlers, no mask, SIGPIPE ignored
} s_vfork_t;

//  Why the child could not exec, sent back on the report pipe.
typedef struct {
    int stage; //  STAGE_CHDIR or STAGE_EXEC
    int error; //  errno
} s_failure_t;

//  Makes `fd` the child's descriptor `target`, without close-on-exec.
static int
s_child_dup (int fd, int target)
{
    if (fd == target)
        return fcntl (fd, F_SETFD, 0);
    return dup2 (fd, target) < 0 ? -1 : 0;
}

static _Noreturn void s_child_exec (const s_vfork_t *spawn);

//  The child between vfork and exec. It runs on our memory while our
//  thread waits, so: async-signal-safe calls only, no allocation, and it
//  writes nothing of ours. What posix_spawn did (own process group, clean
//  signal mask, default signals, pipes, cwd) plus the parent-death signal,
//  which posix_spawn cannot set.
static _Noreturn void
s_child (const s_vfork_t *spawn)
{
    //  Linux sends it when the thread that forked us exits: a server
    //  actor's thread, which always closes (and reaps) us before it ends,
    //  or the helper, which lives as long as the host. If that died before
    //  the prctl took, nobody will send it: go at once.
    prctl (PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL);
    if (getppid () != spawn->parent)
        _exit (127);
    setpgid (0, 0);
    //  A handler of the host must never run here, on shared memory, and the
    //  signals a server relies on start at their defaults; then unblock
    //  (our thread blocks nearly everything, and exec keeps the mask). The
    //  helper's state is known: only its SIGPIPE differs, and the 2 * 64
    //  calls would be most of what it spends per server.
    struct sigaction defaults = { .sa_handler = SIG_DFL };
    if (spawn->helper) {
        sigaction (SIGPIPE, &defaults, NULL);
        s_child_exec (spawn);
    }
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction current;
        if (sigaction (sig, NULL, &current) != 0)
            continue;
        bool handled = current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
        if (handled || sig == SIGPIPE || sig == SIGINT || sig == SIGTERM || sig == SIGCHLD)
            sigaction (sig, &defaults, NULL);
    }
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    s_child_exec (spawn);
}

//  The rest of s_child: cwd, descriptors, exec; or why not.
static _Noreturn void
s_child_exec (const s_vfork_t *spawn)
{
    const spawner_child_t *child = spawn->child;
    s_failure_t failure = { STAGE_EXEC, 0 };
    if (child->cwd && chdir (child->cwd) != 0)
        failure = (s_failure_t){ STAGE_CHDIR, errno };
    else if (s_child_dup (child->in, 0) || s_child_dup (child->out, 1) ||
             s_child_dup (child->err, 2))
        failure.error = errno;
    else {
        execvpe (child->command, child->argv, child->envp);
        failure.error = errno;
    }
    ssize_t rc = write (spawn->report, &failure, sizeof failure);
    (void) rc;
    _exit (127);
}

//  Starts the child with vfork, as cheap as posix_spawn's (which cannot
//  set a parent-death signal). Async-signal-safe: the helper runs it too.
//  Returns the answer: the pid, or -1 and where and why it failed.
static s_answer_t
s_vfork (const spawner_child_t *child, bool helper)
{
    s_answer_t answer = { -1, STAGE_FORK, 0, 0 };
    int report[2];
    if (pipe2 (report, O_CLOEXEC) != 0) {
        answer.error = errno;
        return answer;
    }
    s_vfork_t spawn = { child, report[1], getpid (), helper };
    //  No signal handler may run in the child before it resets them, nor
    //  in this thread while the child borrows its stack (the helper has
    //  none).
    sigset_t all, mask;
    sigfillset (&all);
    if (!helper)
        pthread_sigmask (SIG_BLOCK, &all, &mask);
    pid_t pid = vfork ();
    if (pid == 0)
        s_child (&spawn);
    int vfork_errno = errno;
    if (!helper)
        pthread_sigmask (SIG_SETMASK, &mask, NULL);
    close (report[1]);
    if (pid < 0) {
        close (report[0]);
        answer.error = vfork_errno;
        return answer;
    }
    //  We resume once the child has exec'd (the pipe closed on exec: EOF)
    //  or failed (it said why, then exited).
    s_failure_t failure;
    ssize_t got;
    do
        got = read (report[0], &failure, sizeof failure);
    while (got < 0 && errno == EINTR);
    close (report[0]);
    if (got != (ssize_t) sizeof failure)
        return (s_answer_t){ pid, STAGE_NONE, 0, 0 };
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
    answer.stage = failure.stage;
    answer.error = failure.error;
    return answer;
}

//  --------------------------------------------------------------------------
//  The helper process (async-signal-safe from here to s_helper_main's end)

static char s_buffer[sizeof (s_request_t) + MAX_REQUEST + 1];
static char *s_strings[MAX_STRINGS + 4];

//  Points s_strings at `count` NUL-terminated strings from *at (below
//  end), NULL after them; returns the first pointer, or NULL if they do
//  not fit.
static char **
s_take_strings (char **at, const char *end, size_t *used, uint32_t count)
{
    if (*used + count + 1 > sizeof s_strings / sizeof s_strings[0])
        return NULL;
    char **first = s_strings + *used;
    for (uint32_t i = 0; i < count; i++) {
        char *nul = memchr (*at, 0, (size_t) (end - *at));
        if (!nul)
            return NULL;
        s_strings[(*used)++] = *at;
        *at = nul + 1;
    }
    s_strings[(*used)++] = NULL;
    return first;
}

//  Serves one SPAWN: parses the strings, starts the child with our PATH
//  and working directory set to the host's, as they are now: execvp's
//  search, a relative command and a relative cwd go as they would have
//  from the host.
static s_answer_t
s_helper_spawn (size_t size, const int *fds)
{
    s_request_t *request = (s_request_t *) s_buffer;
    char *at = s_buffer + sizeof *request;
    const char *end = s_buffer + size;
    size_t used = 0;
    s_answer_t invalid = { -1, STAGE_FORK, EINVAL, 0 };
    char **command = s_take_strings (&at, end, &used, 1);
    char **argv = s_take_strings (&at, end, &used, request->argc);
    char **envp = s_take_strings (&at, end, &used, request->envc);
    char **cwd = request->flags & F_CWD ? s_take_strings (&at, end, &used, 1) : NULL;
    char **path = request->flags & F_PATH ? s_take_strings (&at, end, &used, 1) : NULL;
    char **here = request->flags & F_HERE ? s_take_strings (&at, end, &used, 1) : NULL;
    if (!command || !argv || !envp || (request->flags & F_CWD && !cwd) ||
        (request->flags & F_PATH && !path) || (request->flags & F_HERE && !here))
        return invalid;
    static char where[MAX_REQUEST + 1]; //  where we are, as the host named it
    if (here && strcmp (*here, where) != 0) {
        size_t length = strlen (*here);
        if (chdir (*here) == 0)
            memcpy (where, *here, length + 1);
        else
            where[0] = 0;
    }
    //  environ is only read, by execvpe's search, until the next request.
    static char path_variable[MAX_REQUEST + 8];
    static char *path_environ[2];
    path_environ[0] = path_environ[1] = NULL;
    if (path) {
        size_t length = strlen (*path);
        memcpy (path_variable, "PATH=", 5);
        memcpy (path_variable + 5, *path, length + 1);
        path_environ[0] = path_variable;
    }
    environ = path_environ;
    spawner_child_t child = { *command, argv, envp, cwd ? *cwd : NULL, fds[1], fds[2], fds[3] };
    return s_vfork (&child, true);
}

static _Noreturn void
s_helper_main (int control, pid_t host)
{
    //  Die with the host's thread that forked us (see the file's head).
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != host)
        _exit (0);
    prctl (PR_SET_NAME, "mcpact-spawn");
    //  A group of our own: a signal to the host's process group (Ctrl-C
    //  at a terminal, timeout(1)) is the host's to handle, not ours; we
    //  end with the host's thread, and the servers we started would end
    //  with us, in the middle of the host's own close.
    setpgid (0, 0);
    //  Default signals, none blocked; SIGPIPE ignored, so that an answer
    //  to an actor that went away does not kill us (s_child restores it
    //  for the servers). SIGCHLD at its default keeps zombies until asked.
    struct sigaction defaults = { .sa_handler = SIG_DFL };
    for (int sig = 1; sig < NSIG; sig++)
        sigaction (sig, &defaults, NULL);
    struct sigaction ignore = { .sa_handler = SIG_IGN };
    sigaction (SIGPIPE, &ignore, NULL);
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    //  Descriptors: /dev/null as 0 to 2 (so that passed ones never land
    //  there and clash with the child's dup2s), the socket as 3, nothing
    //  else: each vfork copies this table.
    int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
    int high_null = null < 0 ? -1 : fcntl (null, F_DUPFD_CLOEXEC, 4);
    int high_control = fcntl (control, F_DUPFD_CLOEXEC, 4);
    if (high_null < 0 || high_control < 0 || dup2 (high_null, 0) < 0 || dup2 (high_null, 1) < 0 ||
        dup2 (high_null, 2) < 0 || dup3 (high_control, 3, O_CLOEXEC) < 0)
        _exit (1);
    if (syscall (SYS_close_range, 4U, ~0U, 0U) != 0) {
        //  Before Linux 5.9: one by one, up to the limit.
        struct rlimit limit;
        int max = getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 1048576
                      ? (int) limit.rlim_cur
                      : 1048576;
        for (int fd = 4; fd < max; fd++)
            close (fd);
    }
    control = 3;

    while (true) {
        struct iovec iov = { s_buffer, sizeof s_buffer - 1 };
        union {
            struct cmsghdr header;
            char space[CMSG_SPACE (4 * sizeof (int))];
        } control_data;
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = control_data.space,
                              .msg_controllen = sizeof control_data.space };
        ssize_t size = recvmsg (control, &msg, MSG_CMSG_CLOEXEC);
        if (size == 0)
            _exit (0); //  the host closed its end, or died
        if (size < 0) {
            if (errno == EINTR)
                continue;
            _exit (1);
        }
        int fds[4] = { -1, -1, -1, -1 };
        int count = 0;
        for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); cmsg; cmsg = CMSG_NXTHDR (&msg, cmsg))
            if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
                int got = (int) ((cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int));
                for (int i = 0; i < got; i++) {
                    int fd;
                    memcpy (&fd, CMSG_DATA (cmsg) + i * sizeof (int), sizeof fd);
                    if (count < 4)
                        fds[count++] = fd;
                    else
                        close (fd);
                }
            }
        s_request_t *request = (s_request_t *) s_buffer;
        s_answer_t answer = { -1, STAGE_FORK, EINVAL, 0 };
        if ((size_t) size < sizeof *request || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
            ;
        else if (request->op == OP_SPAWN && count == 4)
            answer = s_helper_spawn ((size_t) size, fds);
        else if (request->op == OP_REAP && count == 1 && request->pid > 0) {
            int status = 0;
            pid_t rc;
            do
                rc = waitpid (request->pid, &status, WNOHANG);
            while (rc < 0 && errno == EINTR);
            answer = (s_answer_t){ rc, STAGE_NONE, rc < 0 ? errno : 0, status };
        }
        if (fds[0] >= 0) {
            ssize_t rc = write (fds[0], &answer, sizeof answer);
            (void) rc;
        }
        for (int i = 0; i < count; i++)
            close (fds[i]);
    }
}

//  --------------------------------------------------------------------------
//  The host's side

typedef struct {
    pid_t pid;        //  the helper
    int control;      //  our end of its socket
    int pidfd;        //  says when it died, or -1
    atomic_bool dead; //  it died: spawn directly
} s_helper_t;

static pthread_mutex_t s_life = PTHREAD_MUTEX_INITIALIZER; //  one start or stop at a time
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER; //  guards s_forked
static int s_users;                                        //  spawner_start calls not stopped yet
static s_helper_t s_helpers[MAX_HELPERS];
static atomic_int s_count;         //  helpers started
static atomic_uint s_next;         //  round robin over them
static atomic_bool s_warned;       //  the fall-back was logged
static pthread_t s_thread;         //  forks the helpers, then reaps them
static int s_wake[2] = { -1, -1 }; //  tells that thread to stop
static pthread_cond_t s_started = PTHREAD_COND_INITIALIZER;
static bool s_forked; //  that thread has forked (or failed to)

static void
s_fall_back (const char *why)
{
    if (!atomic_exchange (&s_warned, true))
        log_warn ("%s; stdio servers are started directly from now on", why);
}

//  The helpers' thread: forks them, then waits until spawner_stop asks
//  it to end them, reaping one that died before.
//  The forks that make the helpers (on the helpers' thread, while
//  spawner_start waits for them) are ours, and pass the fork handlers
//  below untouched.
static _Thread_local bool s_on_helpers_thread;

static void *
s_helpers_thread (void *arg)
{
    s_on_helpers_thread = true;
    int wanted = (int) (intptr_t) arg;
    int count = 0;
    //  The host's signals are for the host's threads, as with the actors.
    sigset_t signals;
    sigfillset (&signals);
    sigdelset (&signals, SIGSEGV);
    sigdelset (&signals, SIGBUS);
    sigdelset (&signals, SIGFPE);
    sigdelset (&signals, SIGILL);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    pid_t host = getpid ();
    for (int i = 0; i < wanted; i++) {
        int pair[2];
        if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            break;
        pid_t pid = fork ();
        if (pid == 0)
            s_helper_main (pair[1], host);
        close (pair[1]);
        if (pid < 0) {
            close (pair[0]);
            break;
        }
        s_helper_t *helper = &s_helpers[count++];
        helper->pid = pid;
        helper->control = pair[0];
        helper->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
        atomic_store (&helper->dead, false);
    }
    pthread_mutex_lock (&s_lock);
    atomic_store (&s_count, count);
    s_forked = true;
    pthread_cond_broadcast (&s_started);
    pthread_mutex_unlock (&s_lock);

    struct pollfd items[MAX_HELPERS + 1];
    while (true) {
        int used = 0;
        items[used++] = (struct pollfd){ s_wake[0], POLLIN, 0 };
        for (int i = 0; i < count; i++)
            if (!atomic_load (&s_helpers[i].dead) && s_helpers[i].pidfd >= 0)
                items[used++] = (struct pollfd){ s_helpers[i].pidfd, POLLIN, 0 };
        if (poll (items, (nfds_t) used, -1) < 0 && errno != EINTR)
            break;
        if (items[0].revents)
            break;
        for (int i = 0; i < count; i++) {
            s_helper_t *helper = &s_helpers[i];
            struct pollfd probe = { helper->pidfd, POLLIN, 0 };
            if (atomic_load (&helper->dead) || helper->pidfd < 0 || poll (&probe, 1, 0) != 1)
                continue;
            atomic_store (&helper->dead, true);
            waitpid (helper->pid, NULL, WNOHANG);
            s_fall_back ("the spawn helper died");
        }
    }
    //  EOF on its socket ends a helper; its children are gone already.
    for (int i = 0; i < count; i++) {
        s_helper_t *helper = &s_helpers[i];
        shutdown (helper->control, SHUT_RDWR);
        while (waitpid (helper->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    return NULL;
}

//  Starts the helpers' thread with the host's signals blocked (they are
//  for the host's threads, as with the actors'), the faults excepted.
static int
s_create_thread (int wanted)
{
    sigset_t signals, mask;
    sigfillset (&signals);
    sigdelset (&signals, SIGSEGV);
    sigdelset (&signals, SIGBUS);
    sigdelset (&signals, SIGFPE);
    sigdelset (&signals, SIGILL);
    pthread_sigmask (SIG_BLOCK, &signals, &mask);
    int rc = pthread_create (&s_thread, NULL, s_helpers_thread, (void *) (intptr_t) wanted);
    pthread_sigmask (SIG_SETMASK, &mask, NULL);
    return rc;
}

//  fork () in the host: the child gets copies of the helpers' sockets but
//  not the thread that looks after them, and the state must not be caught
//  half-changed. The child forgets the parent's helpers (closing its
//  copies, so that they still end when the parent lets them go): a
//  runtime made in the child starts helpers of its own.
static void
s_before_fork (void)
{
    if (s_on_helpers_thread)
        return;
    pthread_mutex_lock (&s_life);
    pthread_mutex_lock (&s_lock);
}

static void
s_after_fork_parent (void)
{
    if (s_on_helpers_thread)
        return;
    pthread_mutex_unlock (&s_lock);
    pthread_mutex_unlock (&s_life);
}

static void
s_after_fork_child (void)
{
    if (s_on_helpers_thread)
        return;
    int count = atomic_exchange (&s_count, 0);
    for (int i = 0; i < count; i++) {
        close (s_helpers[i].control);
        if (s_helpers[i].pidfd >= 0)
            close (s_helpers[i].pidfd);
        s_helpers[i] = (s_helper_t){ .pid = 0, .control = -1, .pidfd = -1 };
    }
    for (int i = 0; i < 2; i++)
        if (s_wake[i] >= 0)
            close (s_wake[i]);
    s_wake[0] = s_wake[1] = -1;
    s_users = 0;
    s_forked = false;
    pthread_mutex_unlock (&s_lock);
    pthread_mutex_unlock (&s_life);
}

static void
s_register_fork_handlers (void)
{
    pthread_atfork (s_before_fork, s_after_fork_parent, s_after_fork_child);
}

int
spawner_start (void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, s_register_fork_handlers);
    pthread_mutex_lock (&s_life);
    pthread_mutex_lock (&s_lock);
    int rc = 0;
    if (s_users++ == 0) {
        //  One helper per CPU (at most DEFAULT_HELPERS): a helper waits
        //  while each child execs, and another can start the next
        //  meanwhile. MCPACT_SPAWN_HELPER=0 turns them off, =N asks for N.
        const char *setting = getenv ("MCPACT_SPAWN_HELPER");
        char *end = NULL;
        long asked = setting ? strtol (setting, &end, 10) : -1;
        long cpus = sysconf (_SC_NPROCESSORS_ONLN);
        int wanted = cpus < 1 ? 1 : cpus > DEFAULT_HELPERS ? DEFAULT_HELPERS : (int) cpus;
        if (setting && end != setting && *end == 0 && asked >= 0)
            wanted = asked > MAX_HELPERS ? MAX_HELPERS : (int) asked;
        //  pidfd_open (Linux 5.3) is how the actors see their children
        //  exit when the helper is their parent: without it, no helper.
        int probe = (int) syscall (SYS_pidfd_open, getpid (), 0);
        if (probe >= 0)
            close (probe);
        s_forked = false;
        atomic_store (&s_warned, false);
        if (wanted <= 0)
            log_debug ("spawn helper turned off (MCPACT_SPAWN_HELPER=%s)", setting);
        else if (probe < 0 || pipe2 (s_wake, O_CLOEXEC) != 0) {
            log_warn ("cannot start the spawn helper: %s", strerror (errno));
            rc = -1;
        } else if (s_create_thread (wanted) != 0) {
            log_warn ("cannot start the spawn helper: no thread");
            close (s_wake[0]);
            close (s_wake[1]);
            s_wake[0] = s_wake[1] = -1;
            rc = -1;
        } else {
            while (!s_forked)
                pthread_cond_wait (&s_started, &s_lock);
            if (atomic_load (&s_count) == 0) {
                log_warn ("cannot start the spawn helper: fork failed");
                rc = -1;
            } else
                log_debug ("spawn helper started as pid %d", (int) s_helpers[0].pid);
        }
    }
    pthread_mutex_unlock (&s_lock);
    pthread_mutex_unlock (&s_life);
    return rc;
}

void
spawner_stop (void)
{
    pthread_mutex_lock (&s_life);
    bool last = s_users > 0 && --s_users == 0;
    if (!last || s_wake[1] < 0) {
        pthread_mutex_unlock (&s_life);
        return;
    }
    ssize_t rc = write (s_wake[1], "x", 1);
    (void) rc;
    pthread_join (s_thread, NULL);
    int count = atomic_exchange (&s_count, 0);
    for (int i = 0; i < count; i++) {
        close (s_helpers[i].control);
        if (s_helpers[i].pidfd >= 0)
            close (s_helpers[i].pidfd);
        s_helpers[i] = (s_helper_t){ .pid = 0, .control = -1, .pidfd = -1 };
    }
    close (s_wake[0]);
    close (s_wake[1]);
    s_wake[0] = s_wake[1] = -1;
    pthread_mutex_unlock (&s_life);
}

pid_t
spawner_helper_pid (void)
{
    int count = atomic_load (&s_count);
    for (int i = 0; i < count; i++)
        if (!atomic_load (&s_helpers[i].dead))
            return s_helpers[i].pid;
    return 0;
}

//  Sends one request to helper `index` with the reply pipe first among
//  the fds, and reads the answer. Returns 0 with *answer; -1 if the
//  request did not reach the helper (it is gone: nothing happened); -2 if
//  it did but no answer came (the helper died on it); -3 if we could not
//  ask (no pipe: out of descriptors).
static int
s_ask (int index, const void *request, size_t size, const int *fds, int count, s_answer_t *answer)
{
    s_helper_t *helper = &s_helpers[index];
    int reply[2];
    if (pipe2 (reply, O_CLOEXEC) != 0)
        return -3;
    int all[4] = { reply[1], -1, -1, -1 };
    for (int i = 0; i < count; i++)
        all[i + 1] = fds[i];
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE (4 * sizeof (int))];
    } control;
    memset (&control, 0, sizeof control);
    struct iovec iov = { (void *) request, size };
    struct msghdr msg = { .msg_iov = &iov,
                          .msg_iovlen = 1,
                          .msg_control = control.space,
                          .msg_controllen = CMSG_SPACE ((size_t) (count + 1) * sizeof (int)) };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN ((size_t) (count + 1) * sizeof (int));
    memcpy (CMSG_DATA (cmsg), all, (size_t) (count + 1) * sizeof (int));
    ssize_t sent;
    do
        sent = sendmsg (helper->control, &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    //  Our write end goes now, so that the helper's death reads as EOF.
    close (reply[1]);
    if (sent != (ssize_t) size) {
        close (reply[0]);
        return -1;
    }
    ssize_t got;
    do
        got = read (reply[0], answer, sizeof *answer);
    while (got < 0 && errno == EINTR);
    close (reply[0]);
    return got == (ssize_t) sizeof *answer ? 0 : -2;
}

//  Appends `text` and its NUL at *at, if it fits before `end`.
static bool
s_put (char **at, const char *end, const char *text)
{
    size_t length = strlen (text) + 1;
    if ((size_t) (end - *at) < length)
        return false;
    memcpy (*at, text, length);
    *at += length;
    return true;
}

//  Asks a helper to start `child`. Returns 0 with *answer, or -1 if no
//  helper could take it (none, dead, or the request is too large) and it
//  is to be spawned directly, or -2 (the helper died on it).
static int
s_spawn_by_helper (const spawner_child_t *child, int *index, s_answer_t *answer)
{
    int count = atomic_load (&s_count);
    if (count == 0)
        return -1;
    const char *path = getenv ("PATH");
    char here[4096];
    bool known = getcwd (here, sizeof here) != NULL;
    size_t size = strlen (child->command) + 1 + (child->cwd ? strlen (child->cwd) + 1 : 0) +
                  (path ? strlen (path) + 1 : 0) + (known ? strlen (here) + 1 : 0);
    for (char *const *arg = child->argv; *arg; arg++)
        size += strlen (*arg) + 1;
    for (char *const *var = child->envp; *var; var++)
        size += strlen (*var) + 1;
    if (size > MAX_REQUEST)
        return -1;
    char *request = (char *) malloc (sizeof (s_request_t) + size);
    if (!request)
        return -1;
    s_request_t header = { .op = OP_SPAWN };
    char *at = request + sizeof header;
    const char *end = at + size;
    bool fits = s_put (&at, end, child->command);
    for (char *const *arg = child->argv; fits && *arg; arg++, header.argc++)
        fits = s_put (&at, end, *arg);
    for (char *const *var = child->envp; fits && *var; var++, header.envc++)
        fits = s_put (&at, end, *var);
    if (fits && child->cwd) {
        header.flags |= F_CWD;
        fits = s_put (&at, end, child->cwd);
    }
    if (fits && path) {
        header.flags |= F_PATH;
        fits = s_put (&at, end, path);
    }
    if (fits && known) {
        header.flags |= F_HERE;
        fits = s_put (&at, end, here);
    }
    fits = fits && header.argc + header.envc + 8 <= MAX_STRINGS;
    memcpy (request, &header, sizeof header);
    int rc = -1;
    unsigned first = atomic_fetch_add (&s_next, 1);
    for (int tries = 0; fits && rc == -1 && tries < count; tries++) {
        int i = (int) ((first + (unsigned) tries) % (unsigned) count);
        if (atomic_load (&s_helpers[i].dead))
            continue;
        int fds[3] = { child->in, child->out, child->err };
        rc = s_ask (i, request, (size_t) (at - request), fds, 3, answer);
        if (rc == -1 || rc == -2) {
            atomic_store (&s_helpers[i].dead, true);
            s_fall_back ("the spawn helper is gone");
        }
        *index = i;
    }
    free (request);
    return rc;
}

int
spawner_spawn (const spawner_child_t *child, spawner_proc_t *proc, char **error)
{
    *error = NULL;
    s_answer_t answer;
    int index = -1;
    int rc = s_spawn_by_helper (child, &index, &answer);
    //  A helper that died on the request may have started the child (it
    //  got SIGTERM then): spawning again on the same pipes would give them
    //  two readers. The actor's restart comes back here, and spawns
    //  directly.
    if (rc == -2) {
        if (asprintf (error, "cannot run %s: the spawn helper died", child->command) < 0)
            *error = NULL;
        return -1;
    }
    if (rc != 0) {
        index = -1;
        answer = s_vfork (child, false);
    }
    if (answer.pid > 0) {
        *proc = (spawner_proc_t){ answer.pid, index };
        return 0;
    }
    if (answer.stage == STAGE_CHDIR)
        rc = asprintf (error, "working directory %s: %s", child->cwd, strerror (answer.error));
    else
        rc = asprintf (error, "cannot run %s: %s", child->command, strerror (answer.error));
    if (rc < 0)
        *error = NULL;
    return -1;
}

int
spawner_reap (const spawner_proc_t *proc, int pidfd, int *status)
{
    if (proc->helper < 0) {
        pid_t rc;
        do
            rc = waitpid (proc->pid, status, WNOHANG);
        while (rc < 0 && errno == EINTR);
        return rc == proc->pid ? 1 : rc == 0 ? 0 : -1;
    }
    //  The pidfd is readable once the child has exited, so a running one
    //  costs no round trip.
    struct pollfd probe = { pidfd, POLLIN, 0 };
    if (pidfd >= 0 && poll (&probe, 1, 0) == 0)
        return 0;
    s_request_t request = { .op = OP_REAP, .pid = proc->pid };
    s_answer_t answer;
    int rc = atomic_load (&s_helpers[proc->helper].dead)
                 ? -1
                 : s_ask (proc->helper, &request, sizeof request, NULL, 0, &answer);
    if (rc == -3)
        return 0; //  ask again later
    if (rc != 0)
        return -1; //  its helper died: the child got SIGTERM, and init reaps it
    *status = answer.status;
    return answer.pid == proc->pid ? 1 : answer.pid == 0 ? 0 : -1;
}
