#pragma once
// A fresh database on the throwaway PostgreSQL server of the CTest fixture "postgres"
// (tests/support/postgres.sh), dropped again at the end of the test. Throws when the fixture did
// not start a server: such tests fail, they never skip.
#include <string>

namespace trackiq::test {

class TempPostgresDb {
 public:
  TempPostgresDb();
  ~TempPostgresDb();
  TempPostgresDb(const TempPostgresDb&) = delete;
  TempPostgresDb& operator=(const TempPostgresDb&) = delete;
  // postgresql://trackiq@127.0.0.1:PORT/trackiq_test_XXXXXXXX
  const std::string& url() const { return url_; }

 private:
  std::string admin_, name_, url_;
};

}  // namespace trackiq::test
