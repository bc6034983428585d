/*  =========================================================================
    auth - `mcpact auth login SERVER` and `mcpact auth logout SERVER`

    login authorises one HTTP server of a configuration file with OAuth:
    it prints the authorization URL, waits on a loopback redirect URI
    (http://127.0.0.1:PORT/callback) for the browser to come back with the
    code, and keeps the tokens in the default file store, where every
    later run (and any host using the file store) finds them. logout
    removes them.
    =========================================================================
*/

#ifndef MCPACT_CLI_AUTH_H_INCLUDED
#define MCPACT_CLI_AUTH_H_INCLUDED

//  Runs `auth`. argv[0] is the command word ("auth"), skipped; then
//  "login" or "logout", the server's name, and the options:
//
//    -c FILE, --config FILE   the mcpServers JSON file (login: required)
//    --scope SCOPE            login: a scope to ask for too (repeatable)
//    --timeout MS             login: bound on the whole login
//    -v, -vv, -q              the runtime's log: info, debug, errors only
//    -h, --help               print the usage
//
//  Any other option is refused, naming these.
//
//  Returns the exit status: 0 done, 1 the authorization failed, 2 a usage
//  or configuration error.
int cli_auth (int argc, char **argv);

#endif
