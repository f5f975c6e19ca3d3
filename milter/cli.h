/*
 * cli.h - the one-shot commands: -r (report) and -n (dry run).  Both use
 * the same rules/ code as the daemon and change no state.
 */
#ifndef MAIL2ALERT_CLI_H
#define MAIL2ALERT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

int cli_report(const struct config *config, bool json);
int cli_dry_run(const struct config *config, const char *eml_path,
    const char *from, char *const *to, size_t nto);

/*
 * Print where the rules' chat posts go ("chat destinations:" and a line
 * each), or with lookups_only, only the Slack users looked up at run time.
 */
void cli_print_destinations(const struct config *config, bool lookups_only);

#endif
