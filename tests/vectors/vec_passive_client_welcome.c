/*
 * vec_passive_client_welcome.c - mls/passive-client-welcome.json: a
 * Bulwark member joins groups made by other implementations from their
 * Welcome, with the ratchet tree in the Welcome or supplied out of band
 * and with external PSKs, and derives the same epoch authenticator.
 */
#include "passive_client.h"

int main(int argc, char **argv)
{
	return passive_client_main(argc, argv, "mls/passive-client-welcome.json",
				   "passive-client-welcome");
}
