#include "storage/database.h"

namespace keybridge::storage {

const SqlValue* RowReader::At(std::size_t column) {
  if (column >= row_.size()) {
    Fail(column);
    return nullptr;
  }
  return &row_[column];
}

void RowReader::Fail(std::size_t column) {
  if (!bad_column_) {
    bad_column_ = column;
  }
}

std::string RowReader::Text(std::size_t column) {
  auto value = OptionalText(column);
  if (!value) {
    Fail(column);
    return {};
  }
  return *std::move(value);
}

std::int64_t RowReader::Int(std::size_t column) {
  auto value = OptionalInt(column);
  if (!value) {
    Fail(column);
    return 0;
  }
  return *value;
}

std::optional<std::string> RowReader::OptionalText(std::size_t column) {
  const SqlValue* value = At(column);
  if (value == nullptr || std::holds_alternative<std::monostate>(*value)) {
    return std::nullopt;
  }
  if (const auto* text = std::get_if<std::string>(value)) {
    return *text;
  }
  Fail(column);
  return std::nullopt;
}

std::optional<std::int64_t> RowReader::OptionalInt(std::size_t column) {
  const SqlValue* value = At(column);
  if (value == nullptr || std::holds_alternative<std::monostate>(*value)) {
    return std::nullopt;
  }
  if (const auto* number = std::get_if<std::int64_t>(value)) {
    return *number;
  }
  Fail(column);
  return std::nullopt;
}

core::Status RowReader::status() const {
  if (bad_column_) {
    return core::MakeError(core::ErrorCode::kInternal, "unexpected data in the database",
                           "table " + std::string(table_) + ": column "
                               + std::to_string(*bad_column_) + " is missing, NULL or mistyped");
  }
  return core::OkStatus();
}

}  // namespace keybridge::storage
