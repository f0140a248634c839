//! The payment port: turning a card token into a stored payment method, and charging it.
//!
//! Only the provider's answers reach the domain (as [`PaymentMethod`] and [`Charge`] in
//! commands), so the bucket's events are the billing history. [`LocalPayments`] is the built-in
//! provider for development and tests; a Stripe adapter would implement the same trait.
use async_trait::async_trait;
use rand::RngExt;

use annals_domain::workspaces::{Charge, PaymentMethod};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// Not a token this provider issued.
    #[error("is not a valid card token")]
    InvalidToken,
    #[error("your card was declined")]
    Declined,
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;

    /// Stores the card behind a one-time `token` for `customer` (an email).
    async fn attach(&self, token: &str, customer: &str) -> Result<PaymentMethod, PaymentError>;

    async fn charge(
        &self,
        method: &PaymentMethod,
        amount: u64,
        currency: &str,
        description: &str,
    ) -> Result<Charge, PaymentError>;

    /// Gives a charge back (used when the subscription it paid for could not be recorded).
    async fn refund(&self, charge: &Charge) -> Result<(), PaymentError>;
}

/// Accepts Stripe-style test tokens, `tok_*`, and charges nothing real:
///
/// - `tok_visa`, `tok_mastercard`, `tok_amex`: cards of that brand that always pay;
/// - `tok_chargeDeclined...`: a card that is stored but whose charges are declined;
/// - any other `tok_<letters, digits, _>`: a card that pays.
#[derive(Debug, Default)]
pub struct LocalPayments;

const DECLINING_LAST4: &str = "0002";

fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}_{tail}")
}

#[async_trait]
impl PaymentProvider for LocalPayments {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn attach(&self, token: &str, _customer: &str) -> Result<PaymentMethod, PaymentError> {
        let rest = token
            .strip_prefix("tok_")
            .filter(|r| !r.is_empty() && r.len() <= 64)
            .filter(|r| r.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .ok_or(PaymentError::InvalidToken)?;
        let (brand, last4) = match rest {
            "visa" => ("visa", "4242"),
            "mastercard" => ("mastercard", "4444"),
            "amex" => ("amex", "8431"),
            r if r.starts_with("chargeDeclined") => ("visa", DECLINING_LAST4),
            _ => ("visa", "4242"),
        };
        Ok(PaymentMethod {
            id: random_id("pm"),
            provider: self.name().into(),
            brand: brand.into(),
            last4: last4.into(),
        })
    }

    async fn charge(
        &self,
        method: &PaymentMethod,
        amount: u64,
        currency: &str,
        description: &str,
    ) -> Result<Charge, PaymentError> {
        if method.last4 == DECLINING_LAST4 {
            return Err(PaymentError::Declined);
        }
        Ok(Charge {
            id: random_id("ch"),
            provider: self.name().into(),
            amount,
            currency: currency.into(),
            payment_method: method.id.clone(),
            description: description.into(),
        })
    }

    async fn refund(&self, _charge: &Charge) -> Result<(), PaymentError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_tokens_become_cards_that_pay_or_decline() {
        let local = LocalPayments;
        let visa = local.attach("tok_visa", "a@b.c").await.unwrap();
        assert_eq!((visa.brand.as_str(), visa.last4.as_str()), ("visa", "4242"));
        assert!(visa.id.starts_with("pm_"));
        let charge = local.charge(&visa, 3900, "eur", "pro_8").await.unwrap();
        assert_eq!(charge.amount, 3900);
        assert_eq!(charge.payment_method, visa.id);

        let declining = local.attach("tok_chargeDeclined", "a@b.c").await.unwrap();
        assert_eq!(
            local.charge(&declining, 3900, "eur", "pro_8").await,
            Err(PaymentError::Declined)
        );
        for bad in ["visa", "tok_", "tok_a b", "4242424242424242"] {
            assert_eq!(
                local.attach(bad, "a@b.c").await,
                Err(PaymentError::InvalidToken),
                "{bad}"
            );
        }
    }
}
