//! SMTP settings, notification rules and templates, the mail outbox with its
//! attempts, and password reset tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SmtpSettings {
    Table,
    CompanyId,
    Host,
    Port,
    Security,
    Username,
    PasswordEncrypted,
    FromAddress,
    FromName,
    ReplyTo,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationSettings {
    Table,
    CompanyId,
    Locale,
    Statuses,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationTemplates {
    Table,
    Id,
    CompanyId,
    Status,
    Subject,
    Html,
    Text,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    CompanyId,
    OrderId,
    HistoryId,
    Kind,
    Recipient,
    Subject,
    Html,
    Text,
    State,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    SentAt,
    MessageId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationAttempts {
    Table,
    Id,
    NotificationId,
    AttemptedAt,
    Succeeded,
    Detail,
}

#[derive(DeriveIden)]
enum PasswordResetTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

fn company_fk(table: impl IntoIden + 'static, column: impl IntoIden + 'static, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(table, column).to(Companies::Table, Companies::Id).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SmtpSettings::Table)
                .col(integer(SmtpSettings::CompanyId).primary_key())
                .col(string_len(SmtpSettings::Host, 253))
                .col(integer(SmtpSettings::Port))
                .col(string_len(SmtpSettings::Security, 10))
                .col(string_len_null(SmtpSettings::Username, 254))
                .col(text_null(SmtpSettings::PasswordEncrypted))
                .col(string_len(SmtpSettings::FromAddress, 254))
                .col(string_len_null(SmtpSettings::FromName, 200))
                .col(string_len_null(SmtpSettings::ReplyTo, 254))
                .col(timestamp_with_time_zone(SmtpSettings::UpdatedAt))
                .foreign_key(&mut company_fk(SmtpSettings::Table, SmtpSettings::CompanyId, "fk_smtp_company"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(NotificationSettings::Table)
                .col(integer(NotificationSettings::CompanyId).primary_key())
                .col(string_len(NotificationSettings::Locale, 8))
                .col(string_len(NotificationSettings::Statuses, 300))
                .col(timestamp_with_time_zone(NotificationSettings::UpdatedAt))
                .foreign_key(&mut company_fk(NotificationSettings::Table, NotificationSettings::CompanyId, "fk_notification_settings_company"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(NotificationTemplates::Table)
                .col(pk_auto(NotificationTemplates::Id))
                .col(integer(NotificationTemplates::CompanyId))
                .col(string_len(NotificationTemplates::Status, 20))
                .col(string_len(NotificationTemplates::Subject, 300))
                .col(text(NotificationTemplates::Html))
                .col(text(NotificationTemplates::Text))
                .col(timestamp_with_time_zone(NotificationTemplates::UpdatedAt))
                .foreign_key(&mut company_fk(NotificationTemplates::Table, NotificationTemplates::CompanyId, "fk_templates_company"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_templates_company_status")
                .table(NotificationTemplates::Table)
                .col(NotificationTemplates::CompanyId)
                .col(NotificationTemplates::Status)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(pk_auto(Notifications::Id))
                .col(integer_null(Notifications::CompanyId))
                .col(integer_null(Notifications::OrderId))
                .col(integer_null(Notifications::HistoryId))
                .col(string_len(Notifications::Kind, 16))
                .col(string_len(Notifications::Recipient, 254))
                .col(string_len(Notifications::Subject, 300))
                .col(text(Notifications::Html))
                .col(text(Notifications::Text))
                .col(string_len(Notifications::State, 10))
                .col(integer(Notifications::Attempts).default(0))
                .col(timestamp_with_time_zone(Notifications::NextAttemptAt))
                .col(timestamp_with_time_zone_null(Notifications::LeaseUntil))
                .col(text_null(Notifications::LastError))
                .col(timestamp_with_time_zone_null(Notifications::SentAt))
                .col(string_len_null(Notifications::MessageId, 300))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone(Notifications::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notifications_due")
                .table(Notifications::Table)
                .col(Notifications::State)
                .col(Notifications::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_notifications_order").table(Notifications::Table).col(Notifications::OrderId).to_owned(),
        )
        .await?;
        // At most one automatic mail per status change, whatever races or
        // retries happen; the partial-index syntax is shared by both databases.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_notifications_status_change ON notifications (history_id) WHERE kind = 'STATUS_CHANGE'",
            )
            .await?;

        m.create_table(
            Table::create()
                .table(NotificationAttempts::Table)
                .col(pk_auto(NotificationAttempts::Id))
                .col(integer(NotificationAttempts::NotificationId))
                .col(timestamp_with_time_zone(NotificationAttempts::AttemptedAt))
                .col(boolean(NotificationAttempts::Succeeded))
                .col(text_null(NotificationAttempts::Detail))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_attempts_notification")
                        .from(NotificationAttempts::Table, NotificationAttempts::NotificationId)
                        .to(Notifications::Table, Notifications::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_attempts_notification")
                .table(NotificationAttempts::Table)
                .col(NotificationAttempts::NotificationId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PasswordResetTokens::Table)
                .col(pk_auto(PasswordResetTokens::Id))
                .col(integer(PasswordResetTokens::UserId))
                .col(string_len_uniq(PasswordResetTokens::TokenHash, 64))
                .col(timestamp_with_time_zone(PasswordResetTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(PasswordResetTokens::UsedAt))
                .col(timestamp_with_time_zone(PasswordResetTokens::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_reset_user")
                        .from(PasswordResetTokens::Table, PasswordResetTokens::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PasswordResetTokens::Table.into_iden(),
            NotificationAttempts::Table.into_iden(),
            Notifications::Table.into_iden(),
            NotificationTemplates::Table.into_iden(),
            NotificationSettings::Table.into_iden(),
            SmtpSettings::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
