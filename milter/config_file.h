/*
 * config_file.h - read the configuration file and validate it.
 */
#ifndef MAIL2ALERT_CONFIG_FILE_H
#define MAIL2ALERT_CONFIG_FILE_H

#include <stddef.h>

#include "config.h"

/* Longest config file read; a bigger one is an error, not a truncation. */
#define CONFIG_FILE_MAX (4 * 1024 * 1024)

/* Load path; on error NULL and "PATH:LINE: KEY: what" in err. */
struct config *config_load(const char *path, char *err, size_t errlen);

#endif
