#include "support/postgres.hpp"

#include <fstream>

#include "store/sql.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/core/result.hpp"
#include "support/test_paths.hpp"

namespace trackiq::test {

TempPostgresDb::TempPostgresDb() {
  std::ifstream in(std::string(trackiq::test::kPostgresState) + "/url");
  std::getline(in, admin_);
  if (admin_.empty()) throw Error("no PostgreSQL server: the CTest fixture 'postgres' did not start one");
  name_ = "trackiq_test_" + new_run_id().substr(0, 8);
  store::sql::open_postgres(admin_)->exec_script("CREATE DATABASE " + name_);
  url_ = admin_.substr(0, admin_.rfind('/') + 1) + name_;
}

TempPostgresDb::~TempPostgresDb() {
  try {
    store::sql::open_postgres(admin_)->exec_script("DROP DATABASE " + name_ + " WITH (FORCE)");
  } catch (...) {
  }
}

}  // namespace trackiq::test
