// raccord: a thin main over engine/app/commands (DESIGN.md "engine/app").
#include "engine/app/commands.hpp"

int main(int argc, char** argv) {
  return raccord::app::run(argc, argv);
}
