// raccord: a thin main over engine/app/commands (docs/design.md "Targets and data flow").
#include "engine/app/commands.hpp"

int main(int argc, char** argv) {
  return raccord::app::run(argc, argv);
}
