"""Words of the Malaysian property agency demo (customers' and agents' lines).

Plain data: names, listings and conversation lines in Malay and English.
The customers' lines carry budgets in ringgit and viewings, so that
lead_scoring reads its signals from them as it does from real messages.
"""

# customers (none shares an agent's name)
CUSTOMER_NAMES = [
    "Ahmad Faiz bin Abdullah", "Nur Aisyah binti Ahmad", "Siti Nurhaliza binti Hassan", "Muhammad Hafiz bin Yusof",
    "Tan Chee Wah", "Lim Siew Ping", "Wong Kar Hoe", "Chong Siew Lan", "Rajesh Kumar a/l Krishnan",
    "Priya Devi a/p Subramaniam", "Kavitha Raman", "Mohd Azlan bin Ismail", "Lee Chee Keong", "Goh Pei Shan",
    "Nurul Izzah binti Omar", "Hakim Rosli", "Teoh Li Ying", "Deepa Nair", "Aiman Hakimi bin Zainal",
    "Zulaikha Omar", "Ng Kok Wai", "Syafiqah Ismail", "Ganesh Muthu", "Cheah Wai Kit", "Nadia Kamarudin",
    "Vinod Menon", "Koh Boon Keat", "Amirah Sulaiman", "Loh Mun Yee", "Faizal Hashim",
]

# (team key, listing, price in RM) - the enquiries' properties
LISTINGS = {
    "kl": [("Mont Kiara condo, 3 bedrooms", 1250000), ("Bangsar South serviced residence", 680000),
           ("Cheras Residensi Harmoni", 550000), ("Mont Kiara Arcoris, 2 bedrooms", 980000),
           ("Desa ParkCity terrace", 2100000), ("Setapak affordable apartment", 380000)],
    "pg": [("Penang landed, Tanjung Bungah semi-D", 1800000), ("Bayan Lepas condo near FIZ", 520000),
           ("Gelugor double-storey terrace", 890000), ("Batu Ferringhi sea-view condo", 1150000)],
    "jb": [("JB condo near the RTS Link, Bukit Chagar", 620000), ("Iskandar Puteri terrace", 750000),
           ("Mount Austin townhouse", 560000), ("Medini serviced apartment", 410000)],
}

# first messages: {listing} and {budget} are filled in
FIRST_LINES = {
    "ms": [
        "Salam, saya berminat dengan {listing}. Masih ada unit kosong?",
        "Hi, boleh saya tahu harga {listing}? Bajet saya sekitar RM{budget}k.",
        "Assalamualaikum, nak tanya pasal {listing}. Ada diskaun untuk pembeli rumah pertama?",
        "Saya nak buat viewing {listing} hujung minggu ni, boleh?",
    ],
    "en": [
        "Hi, is the {listing} still available? My budget is RM{budget}k.",
        "Hello, I saw your ad for {listing}. Can I arrange a viewing this Saturday?",
        "Good morning, interested in {listing}. What is the maintenance fee?",
        "Hi there, looking for something like {listing} for my family, budget around RM{budget}k.",
    ],
}
FOLLOW_LINES = {
    "ms": [
        "Terima kasih. Bajet saya maksimum RM{budget}k, loan sudah pre-approved.",
        "Boleh buat viewing Sabtu ni pukul 11 pagi?",
        "Ok, saya dan isteri nak tengok unit tu minggu depan.",
    ],
    "en": [
        "Thanks! My budget is RM{budget}k max, loan is pre-approved with Maybank.",
        "Can we do a viewing on Saturday at 11am?",
        "Great, my wife and I would like to view the unit next week.",
    ],
}
AGENT_REPLIES = {
    "ms": [
        "Terima kasih kerana menghubungi kami! Unit {listing} masih ada. Bila tuan/puan free untuk viewing?",
        "Salam, saya {agent} dari Hartanah Demo. Boleh saya hantar brochure dan floor plan?",
        "Baik, saya sudah book slot viewing. Saya akan WhatsApp lokasi dan parking.",
    ],
    "en": [
        "Thank you for your enquiry! The {listing} is still available. When are you free for a viewing?",
        "Hi, this is {agent} from Hartanah Demo. May I send you the brochure and floor plan?",
        "Noted, your viewing is booked. I will send you the location and parking details.",
    ],
}
CONTACTED_NOTES = [
    "Called the customer, viewing set for Saturday.",
    "Telefon pelanggan, dia minta sebut harga terperinci.",
    "Met at the showroom, walked through the show unit.",
]
# customers' e-mail answers to a nurture e-mail
NURTURE_REPLIES = {
    "ms": [
        "Terima kasih atas e-mel. Saya masih berminat dengan {listing}, boleh buat viewing Sabtu ni?",
        "Salam, bajet saya sekitar RM{budget}k. Tolong hantar senarai unit yang sesuai.",
    ],
    "en": [
        "Thanks for following up. I'm still interested in {listing}, can we view it this Saturday?",
        "Hi, my budget is around RM{budget}k now. Please send me the listings that fit.",
    ],
}
