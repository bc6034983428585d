/*  =========================================================================
    spawner - starts and reaps the stdio servers' processes

    A process made by vfork copies its parent's whole descriptor table, so
    a host that starts N servers, each holding three pipes and a few
    ZeroMQ descriptors, pays for N tables that grow with N. The spawner
    starts children from spawn helpers instead: small processes (one per
    CPU, at most 4) forked from the host once (spawner_start, with the
    first runtime), each holding only its control socket, which vfork
    and exec for the server actors. Without them (turned off by
    MCPACT_SPAWN_HELPER=0, not startable, or dead) children are vforked
    from the calling thread, as before.

    Threading: spawner_spawn and spawner_reap may be called from any
    thread at once (each server actor calls them for its own child);
    spawner_start and spawner_stop are called by the runtime objects,
    counted, and the last stop ends the helper.
    =========================================================================
*/

#ifndef MCPACT_SPAWNER_H_INCLUDED
#define MCPACT_SPAWNER_H_INCLUDED

#include <stdbool.h>
#include <sys/types.h>

//  What a child is started with. It runs `command` (searched on our PATH,
//  as execvp does) in its own process group, with `envp` as its whole
//  environment, in `cwd` (NULL: ours), with in, out and err as its 0, 1
//  and 2, default signals and an empty mask; it gets SIGTERM when the
//  thread or process that started it dies.
typedef struct {
    const char *command; //  the program
    char *const *argv;   //  its arguments, argv[0] the command
    char *const *envp;   //  its environment
    const char *cwd;     //  where it runs, or NULL
    int in, out, err;    //  what becomes its 0, 1 and 2 (the caller keeps them)
} spawner_child_t;

//  A started child and who can reap it.
typedef struct {
    pid_t pid;  //  its pid (and process group id)
    int helper; //  the helper that started it, or -1: the calling process
} spawner_proc_t;

//  Starts the spawn helper if this is the first user (a runtime); later
//  users share it. 0, or -1 if it could not start (spawning then happens
//  directly; logged at warn).
int spawner_start (void);

//  One user less; the last one ends the helper and reaps it. Call only
//  once nothing spawned through it is left.
void spawner_stop (void);

//  Starts the child. Returns 0 and fills *proc, or -1 with *error
//  (malloc'ed, the caller frees): "cannot run CMD: REASON" or "working
//  directory DIR: REASON".
int spawner_spawn (const spawner_child_t *child, spawner_proc_t *proc, char **error);

//  Reaps proc if it has exited; `pidfd` (or -1) tells without asking the
//  helper. Returns 1 with *status (as waitpid has it) once reaped, 0 while
//  it runs, -1 if it is gone but its status is lost (someone else reaped
//  it, or its helper died).
int spawner_reap (const spawner_proc_t *proc, int pidfd, int *status);

//  The helper's pid, or 0 if children are spawned directly. For tests.
pid_t spawner_helper_pid (void);

#endif
