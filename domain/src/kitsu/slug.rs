//! Zou's `slugify(name, separator="_")` (python-slugify), which makes a metadata descriptor's
//! `field_name`, the key of its values in records' `data`.
use unicode_normalization::UnicodeNormalization;

/// The slug of `name`: accents dropped (compatibility decomposition, marks left out), lower
/// case, every run of other characters than ASCII letters and digits one `_`, none at either
/// end. python-slugify transliterates other scripts too; annals drops their letters.
pub fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    let mut pending = false;
    for c in name.nfkd().flat_map(latin) {
        if c.is_ascii_alphanumeric() {
            if pending && !slug.is_empty() {
                slug.push('_');
            }
            pending = false;
            slug.push(c.to_ascii_lowercase());
        } else if !unicode_normalization::char::is_combining_mark(c) {
            pending = true;
        }
    }
    slug
}

/// The Latin letters no decomposition reaches, as unidecode spells them.
fn latin(c: char) -> Vec<char> {
    match c {
        'ß' => vec!['s', 's'],
        'æ' | 'Æ' => vec!['a', 'e'],
        'œ' | 'Œ' => vec!['o', 'e'],
        'ø' | 'Ø' => vec!['o'],
        'ł' | 'Ł' => vec!['l'],
        'đ' | 'Đ' => vec!['d'],
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn names_become_zou_field_names() {
        assert_eq!(slug("Difficulty Level"), "difficulty_level");
        assert_eq!(slug("difficulty-level"), "difficulty_level");
        assert_eq!(slug("Élan vital: 2!"), "elan_vital_2");
        assert_eq!(slug("  Budget   code  "), "budget_code");
        assert_eq!(slug("Director's cut"), "director_s_cut");
        assert_eq!(slug("A__B"), "a_b");
        assert_eq!(slug("Œuvre straße"), "oeuvre_strasse");
        assert_eq!(slug("!!"), "");
    }
}
