/*
 * setup.h - creating the layout's conversations through the server, as
 * devices do (docs/protocol.md, "Conversations"), and caching them.
 *
 * Every device of the layout logs in; each uploads as many key packages
 * as conversations it will be added to; then up to SETUP_PARALLEL
 * conversations at a time are built: the creator (its first member)
 * makes the group (GROUP_CREATE), claims a key package of every other
 * member (KP_CLAIM), commits their Add proposals with a Welcome
 * (GROUP_COMMIT); each added device joins from the Welcome the server
 * puts in its inbox. Every delivery is acknowledged. Then each member
 * encrypts one application message of msg_size bytes, the template --raw
 * mode sends, and everything is saved (convs.h).
 */
#ifndef LG_SETUP_H
#define LG_SETUP_H

#include "convs.h"
#include "mls_dev.h"

int setup_run(struct lg *g, struct lg_mls *m, const bool blocks[BLOCK_COUNT]);

#endif
