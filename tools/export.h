/* export.h - `deepc export --c`: a trained dog-emotion CNN as one C source file. */
#ifndef DEEPC_TOOLS_EXPORT_H
#define DEEPC_TOOLS_EXPORT_H

/* Runs the command with the arguments after "export" (argv[0] is the first of them);
 * returns the exit status: 0, 1 for a checkpoint that cannot be read or does not hold
 * the network, 2 for a bad command line. */
int export_main(int argc, char **argv);

#endif
