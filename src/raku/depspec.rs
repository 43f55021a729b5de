//! META6 dependency specifications, in every form the ecosystem uses.
