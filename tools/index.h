/* index.h - `deepc report`: an index page of all runs. */
#ifndef DEEPC_TOOLS_INDEX_H
#define DEEPC_TOOLS_INDEX_H

/* Runs the command with the arguments after "report"; returns the exit status. */
int index_main(int argc, char **argv);

#endif
